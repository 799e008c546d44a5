"""The command line's parser: argparse's, with a did-you-mean for a misspelt command, choice or
option, and an unknown option reported by the command it was given to."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from synthc import limits
from synthc.hints import closest, did_you_mean


class Parser(argparse.ArgumentParser):
    """An ArgumentParser (its commands' parsers are of this class too) whose errors say what
    the user likely meant."""

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        if action.choices is None or value in action.choices:
            return
        choices = ", ".join(repr(choice) for choice in action.choices)
        hint = did_you_mean(value, [str(choice) for choice in action.choices])
        if value == "help" and isinstance(action, argparse._SubParsersAction):
            hint = f"; for help: {self.prog} --help, or {self.prog} COMMAND --help"
        raise argparse.ArgumentError(
            action, f"invalid choice: {value!r}{hint} (choose from {choices})"
        )

    def error(self, message: str) -> NoReturn:
        """As argparse's; when no command was given (``synthc`` alone), the commands are
        listed with what each does, which the usage line does not say."""
        if message == "the following arguments are required: COMMAND":
            self.print_help(sys.stderr)
            self.exit(2, f"\n{self.prog}: error: give a command, one of those above\n")
        super().error(message)

    def parse_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> argparse.Namespace:
        """As argparse's, but arguments no parser knows are reported by the parser of the
        command they were given to (its usage, its options' names), each with a hint."""
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            parser = self._command_parser(parsed)
            hints = parser._hints(extras, () if parser is self else self._long_options())
            parser.error(f"unrecognized arguments: {' '.join(extras)}{hints}")
        return parsed

    def _command_parser(self, parsed: argparse.Namespace) -> Parser:
        """The parser of the command ``parsed`` ran, or this one."""
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                chosen = action.choices.get(getattr(parsed, action.dest, None) or "")
                if isinstance(chosen, Parser):
                    return chosen
        return self

    def _long_options(self) -> list[str]:
        return [name for name in self._option_string_actions if name.startswith("--")]

    def _hints(self, extras: list[str], program: Sequence[str]) -> str:
        """For each unknown option of ``extras``: this parser's option it is close to, else the
        ``program``'s (``--debug``: given before the command), if any."""
        hints = []
        for extra in extras:
            name = extra.partition("=")[0]
            if not name.startswith("--"):
                continue
            own = _closest_option(name, self._long_options())
            if own is not None:
                hints.append(f"did you mean {own}?")
            elif (top := _closest_option(name, program)) is not None:
                hints.append(
                    f"{top} is an option of synthc itself: give it before the command "
                    f"(synthc {top} ...)"
                )
        return f"; {'; '.join(hints)}" if hints else ""


def _closest_option(name: str, options: Sequence[str]) -> str | None:
    """The option of ``options`` close to ``name``, compared without their dashes (``--foo``
    and ``--force`` share them, not a likely misspelling)."""
    bare = {option.lstrip("-"): option for option in options}
    close = closest(name.lstrip("-"), bare)
    return None if close is None else bare[close]


def workers(text: str) -> int:
    """``--workers N``: a whole number (0 and below are refused by the command, which says
    so) of at most :func:`synthc.limits.max_workers`: each worker is a thread or process."""
    value = _decimal(text, negative=True)
    bound = limits.max_workers()
    if value > bound:
        raise argparse.ArgumentTypeError(
            f"{text}: at most {bound:,} workers (synthc.limits.MAX_WORKERS, or "
            f"{limits.WORKERS_PER_CPU} per CPU on a larger machine): each is a thread or process"
        )
    return value


def sample_index(text: str) -> int:
    """``--index I``: a whole number in ASCII decimal digits (``int()`` took ``1_000``,
    full-width digits and blanks around it); a negative one is refused by the command, which
    names the range."""
    return _decimal(text, negative=True)


def count(text: str) -> int:
    """``-n N`` (a number of samples): a whole number in ASCII decimal digits, as
    :func:`sample_index`; 0 and below are refused by the command, which says so."""
    return _decimal(text, negative=True)


def _decimal(text: str, negative: bool = False) -> int:
    """``text`` as an integer written in ASCII decimal digits (``int()`` also takes ``1_000``,
    full-width digits and surrounding blanks); a leading ``-`` only if ``negative``."""
    digits = text[1:] if negative and text.startswith("-") else text
    if not (digits.isascii() and digits.isdigit()):
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number in decimal digits")
    return int(text)
