"""A Jinja2 sandbox that bounds what a spec template may cost: time, value sizes and output.

Each operator, call, filter and ``range`` step checks a CPU-time deadline and refuses to build a
value larger than the limits in :mod:`synthc.limits`; in the main thread a profiling timer also
interrupts loops that call none of them. Every refusal is a :class:`TemplateLimit` naming its limit.
"""

from __future__ import annotations

import collections
import functools
import inspect
import math
import random
import re
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from jinja2.compiler import CodeGenerator
from jinja2.constants import LOREM_IPSUM_WORDS
from jinja2.sandbox import ImmutableSandboxedEnvironment

from synthc import limits

_ITEMS = f"{limits.MAX_TEMPLATE_ITEMS:,} items (synthc.limits.MAX_TEMPLATE_ITEMS)"
_DIGITS = f"{limits.MAX_TEMPLATE_INT_DIGITS:,} digits (synthc.limits.MAX_TEMPLATE_INT_DIGITS)"
_MAX_DIGITS = limits.MAX_TEMPLATE_INT_DIGITS
_MAX_INT_BITS = int(_MAX_DIGITS / math.log10(2))
_DIGITS_PER_BIT = math.log10(2)
#: a width or precision in a format spec ("{:>999999999}", "{:.999999999f}")
_FORMAT_NUMBER = re.compile(r"\{[^{}]*:[^{}]*?(\d{7,})")
#: a width or precision taken from the arguments ("{:{}}")
_ARGUMENT_WIDTH = re.compile(r"\{[^{}]*:[^{}]*\{")
#: a %-conversion's width and precision, after its mapping key and flags ("%0999999999d",
#: "%.999999999f", "%(a)*d"); "%%" is a literal percent sign
_PERCENT_SPEC = re.compile(r"%%|%(?:\([^()]*\))?[-+ #0]*(\*|\d*)(?:\.(\*|\d*))?")
#: string methods and filters whose integer arguments are sizes of what they build
_SIZED_METHODS = {"ljust", "rjust", "center", "zfill", "expandtabs"}
_SIZED_FILTERS = {"center", "indent", "slice", "batch"}
#: filters that turn whole (nested) values into text
_PRINTING_FILTERS = {"string", "tojson", "pprint", "format", "xmlattr", "urlencode", "indent"}
#: check the CPU clock only every this many steps (reading it is a system call)
_TICKS_PER_CHECK = 64


class TemplateLimit(Exception):
    """A template crossed a limit of synthc.limits; the message names it."""


def _sized(value: Any) -> int | None:
    return len(value) if isinstance(value, str | bytes | list | tuple | dict | set) else None


def check_value(value: Any) -> int:
    """The size of ``value`` in items; TemplateLimit if it is beyond the template limits."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value.bit_length() > _MAX_INT_BITS:
            raise TemplateLimit(f"an integer of more than {_DIGITS}")
        return 1
    size = _sized(value)
    if size is not None and size > limits.MAX_TEMPLATE_ITEMS:
        raise TemplateLimit(f"a value of {size:,} items exceeds the limit of {_ITEMS}")
    return size or 1


def check_printed_size(
    value: Any, limit: int = limits.MAX_TEMPLATE_ITEMS, refusal: str | None = None
) -> None:
    """Refuse a value whose text (str(), JSON) could be longer than ``limit`` characters."""
    if printed_size(value, limit) > limit:
        raise TemplateLimit(refusal or f"a text longer than the limit of {_ITEMS}")


def printed_size(value: Any, limit: int = limits.MAX_TEMPLATE_ITEMS) -> int:
    """About how long the text of ``value`` (str(), JSON) is: each text's length and an
    integer's digits, two more per item; counting stops once it passes ``limit``."""
    size = 0
    stack = [value]
    while stack and size <= limit:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend(item)
        if isinstance(item, str | bytes):
            size += len(item) + 2
        elif isinstance(item, int) and not isinstance(item, bool):
            size += int(item.bit_length() * _DIGITS_PER_BIT) + 2  # up to 4,300 digits
        else:
            size += 2
    return size


def _too_many(count: float, what: str) -> None:
    if count > limits.MAX_TEMPLATE_ITEMS:
        raise TemplateLimit(f"{what} would exceed the limit of {_ITEMS}")


def _check_format(text: Any, args: Sequence[Any]) -> None:
    """Refuse formatting with widths (written, or taken from ``args``) beyond the limit."""
    if not isinstance(text, str):
        return
    for match in _FORMAT_NUMBER.finditer(text):
        _too_many(int(match[1]), f"a width of {match[1]} in a format string")
    from_args = _ARGUMENT_WIDTH.search(text) is not None
    for match in _PERCENT_SPEC.finditer(text):
        for size, what in ((match[1], "width"), (match[2], "precision")):
            if size == "*":
                from_args = True
            elif size:
                _too_many(int(size), f"a {what} of {size} in a format string")
    if from_args:
        for arg in args:
            if isinstance(arg, int) and not isinstance(arg, bool):
                _too_many(arg, f"a width of {arg} in a format string")
    check_printed_size(args)
    # every field may print the longest argument: '{0}' * 1000 prints one 1000 times
    fields = text.count("{") + sum(1 for m in _PERCENT_SPEC.finditer(text) if m[0] != "%%")
    longest = max((printed_size(arg) for arg in args), default=0)
    _too_many(len(text) + fields * longest, f"{fields:,} fields of up to {longest:,} characters")


def _check_binop(op: str, left: Any, right: Any) -> None:
    """Refuse an operation whose result would be too big, before computing it."""
    ints = all(isinstance(v, int) for v in (left, right))
    if op == "**" and ints and right > 0 and abs(left) > 1:
        if right.bit_length() > 32 or right * math.log10(abs(left)) > _MAX_DIGITS:
            raise TemplateLimit(f"{left} ** {right} would have more than {_DIGITS}")
    elif op == "*" and ints:
        if left.bit_length() + right.bit_length() > _MAX_INT_BITS + 1:
            raise TemplateLimit(f"a product with more than {_DIGITS}")
    elif op == "*":
        size, count = (_sized(left), right) if isinstance(right, int) else (_sized(right), left)
        if size is not None and isinstance(count, int):
            _too_many(size * max(count, 0), "repeating a value")
    elif op == "+":
        sizes = (_sized(left), _sized(right))
        if None not in sizes:
            _too_many(sum(sizes), "joining two values")  # type: ignore[arg-type]
    elif op == "%" and isinstance(left, str):
        _check_format(left, right if isinstance(right, tuple) else (right,))


def _check_call(obj: Any, args: Sequence[Any], kwargs: dict[str, Any]) -> None:
    """Refuse a string method call whose sizes (widths, counts, joins) are beyond the limits."""
    target = getattr(obj, "__wrapped__", obj)  # str.format arrives wrapped by the sandbox
    owner = getattr(target, "__self__", None)
    if not isinstance(owner, str | bytes):
        return
    name = getattr(target, "__name__", "")
    if name in _SIZED_METHODS:
        for arg in (*args, *kwargs.values()):
            if isinstance(arg, int) and not isinstance(arg, bool):
                _too_many(arg, f"{name}() with {arg}")
        if name == "expandtabs":
            _check_expandtabs(owner, [*args, *kwargs.values(), 8][0])
    elif name in ("format", "format_map"):
        values = [*args, *kwargs.values()]
        if name == "format_map" and args and isinstance(args[0], dict):
            values.extend(args[0].values())  # '{a:{w}}'.format_map({...})
        _check_format(owner, values)
    elif name == "join" and args:
        _check_join(owner, args[0])
    elif name == "replace" and len(args) >= 2:
        _check_replace(owner, args[0], args[1])
    elif name == "translate" and args and isinstance(args[0], dict):
        _check_translate(owner, args[0])


def _check_expandtabs(text: str | bytes, size: Any) -> None:
    """Each tab becomes up to ``size`` spaces: a size within the limit still multiplies."""
    if isinstance(size, int) and not isinstance(size, bool):
        tabs = text.count("\t") if isinstance(text, str) else text.count(b"\t")
        _too_many(len(text) + tabs * size, f"expandtabs({size})")


def _check_translate(text: str | bytes, table: dict[Any, Any]) -> None:
    """Each character becomes its replacement in ``table``: counted when the longest one could
    make the text too long."""
    longest = max((len(v) for v in table.values() if isinstance(v, str)), default=1)
    if not isinstance(text, str) or len(text) * longest <= limits.MAX_TEMPLATE_ITEMS:
        return
    sizes = {k: len(v) if isinstance(v, str) else 1 for k, v in table.items()}
    counts = collections.Counter(text)
    _too_many(
        sum(n * sizes.get(ord(c), 1) for c, n in counts.items()),
        f"translate() with a replacement of {longest:,} characters",
    )


def _check_join(separator: Any, items: Any) -> None:
    if isinstance(items, list | tuple) and isinstance(separator, str):
        total = len(separator) * len(items)
        for item in items:
            total += len(item) if isinstance(item, str) else 1
            _too_many(total, "joining")


def _check_replace(text: Any, old: Any, new: Any) -> None:
    if all(isinstance(v, str) for v in (text, old, new)):
        count = text.count(old) if old else len(text) + 1
        _too_many(len(text) + count * len(new), "replacing")


def _bounded_filter(env: BoundedEnvironment, name: str, fn: Callable[..., Any]) -> Any:
    @functools.wraps(fn)  # keeps jinja's pass_context/pass_environment marks
    def bounded(*args: Any, **kwargs: Any) -> Any:
        env.tick()
        values = [a for a in (*args, *kwargs.values()) if not _is_jinja_internal(a)]
        if name in _SIZED_FILTERS:
            for arg in values[1:]:
                if isinstance(arg, int) and not isinstance(arg, bool):
                    _too_many(arg, f"|{name}({arg})")
        if name in _PRINTING_FILTERS:
            check_printed_size(values)
        if name == "format" and values:
            _check_format(values[0], values[1:])
        elif name == "join" and values:
            _check_join(values[1] if len(values) > 1 else "", values[0])
        elif name == "replace" and len(values) >= 3:
            _check_replace(values[0], values[1], values[2])
        elif name == "wordwrap":
            _check_wordwrap(_arguments(fn, args, kwargs))
        if name == "indent":
            _check_indent(_arguments(fn, args, kwargs))
        elif name == "tojson":
            _check_json_indent(_arguments(fn, args, kwargs))
        elif name == "sum" and values and isinstance(values[0], list | tuple):
            # adding up lists or strings concatenates them
            _too_many(sum(_sized(item) or 0 for item in values[0]), "|sum")
        return env.built(fn(*args, **kwargs))

    return bounded


def _arguments(fn: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
    """A filter's arguments by name (empty when they do not fit it: the call says why)."""
    try:
        return inspect.signature(fn).bind(*args, **kwargs).arguments
    except TypeError:
        return {}


def _check_wordwrap(arguments: dict[str, Any]) -> None:
    """|wordwrap puts its ``wrapstring`` between lines, and a text of n characters wraps into
    at most n lines (width 1) in at most n + 1 paragraphs."""
    text, wrap = arguments.get("s"), arguments.get("wrapstring")
    if isinstance(text, str) and isinstance(wrap, str):
        what = f"|wordwrap of {len(text):,} characters with a wrapstring of {len(wrap):,}"
        _too_many(len(text) + (len(text) + 1) * len(wrap), what)


def _check_indent(arguments: dict[str, Any]) -> None:
    """|indent puts its width (a number of spaces, or a text) before every line."""
    text, width = arguments.get("s"), arguments.get("width", 4)
    size = len(width) if isinstance(width, str) else width
    if isinstance(text, str) and isinstance(size, int) and not isinstance(size, bool):
        lines = len(text.splitlines()) + 1  # jinja splits at \r, \x85, \u2028 ... too
        _too_many(len(text) + lines * size, f"|indent of {lines:,} lines by {size:,}")


def _check_json_indent(arguments: dict[str, Any]) -> None:
    """|tojson(indent=n) puts each value on a line of its own, indented n per level."""
    indent = arguments.get("indent")
    per = len(indent) if isinstance(indent, str) else indent
    if not isinstance(per, int) or isinstance(per, bool) or per <= 0:
        return
    total = 0
    stack = [(arguments.get("value"), 1)]
    while stack:
        item, depth = stack.pop()
        total += 1 + depth * per
        _too_many(total, f"|tojson(indent={per:,}) of this value")
        if isinstance(item, dict):
            stack.extend((value, depth + 1) for value in item.values())
        elif isinstance(item, list | tuple):
            stack.extend((value, depth + 1) for value in item)


def _is_jinja_internal(value: Any) -> bool:
    module = type(value).__module__ or ""
    return module.startswith("jinja2.") and not isinstance(value, str)


class TickingRange(Sequence[int]):
    """``range`` that checks the render's deadline at every step (loops call nothing else)."""

    def __init__(self, env: BoundedEnvironment, values: range) -> None:
        self._env = env
        self._values = values

    def __len__(self) -> int:
        return len(self._values)

    def __getitem__(self, index: Any) -> Any:
        item = self._values[index]
        return TickingRange(self._env, item) if isinstance(item, range) else item

    def __contains__(self, value: object) -> bool:
        return value in self._values

    def __iter__(self) -> Iterator[int]:
        for value in self._values:
            self._env.tick()
            yield value

    def __repr__(self) -> str:
        return repr(self._values)

    def __eq__(self, other: object) -> bool:
        # as for range: equal to a range of the same values, never to a list
        if isinstance(other, TickingRange):
            other = other._values
        return self._values == other if isinstance(other, range) else NotImplemented

    def __hash__(self) -> int:
        return hash(self._values)


class _BoundedCodeGenerator(CodeGenerator):
    """Compiles ``a ~ b`` to a checked call: Jinja has no hook for the concat operator."""

    def visit_Concat(self, node: Any, frame: Any) -> None:
        self.write("environment.concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class BoundedEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox with every operator intercepted, bounded ``range`` and ``lipsum``, a deadline."""

    intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})
    code_generator_class = _BoundedCodeGenerator

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.deadline: float | None = None
        #: synthc's own template helpers (the {{ }} position wrapper), called without checks
        self.own_helpers: set[Any] = set()
        self.ticks = 0
        self.items_built = 0
        self.globals["range"] = self._range
        self.globals["lipsum"] = self._lipsum
        self.filters["random"] = self._random
        self.filters = {n: _bounded_filter(self, n, f) for n, f in self.filters.items()}

    def tick(self) -> None:
        """Raise TemplateLimit once the render has used its CPU time."""
        self.ticks += 1
        if self.ticks % _TICKS_PER_CHECK or self.deadline is None:
            return
        if time.process_time() > self.deadline:
            raise TemplateLimit(time_limit_message())

    def built(self, value: Any) -> Any:
        """``value``, counted against the size limits of one value and of the whole render."""
        self.items_built += check_value(value)
        if self.items_built > limits.MAX_TEMPLATE_BUILT_ITEMS:
            raise TemplateLimit(
                "the values this template builds add up to more than the limit of "
                f"{limits.MAX_TEMPLATE_BUILT_ITEMS:,} items "
                "(synthc.limits.MAX_TEMPLATE_BUILT_ITEMS)"
            )
        return value

    def concat(self, items: Iterable[Any]) -> str:
        """``a ~ b ~ c`` with the size of the result checked first."""
        self.tick()
        check_printed_size(items)
        return self.built("".join(str(item) for item in items))

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        self.tick()
        _check_binop(operator, left, right)
        return self.built(self.binop_table[operator](left, right))

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        if __obj in __self.own_helpers:
            # synthc's position helpers: positional, cheap, safe (Jinja's own keywords dropped)
            return __obj(*args)
        __self.tick()
        _check_call(__obj, args, kwargs)
        return __self.built(super().call(__context, __obj, *args, **kwargs))

    def getitem(self, obj: Any, argument: Any) -> Any:
        self.tick()
        return self.built(super().getitem(obj, argument))  # slices are copies

    def getattr(self, obj: Any, attribute: str) -> Any:
        self.tick()
        return super().getattr(obj, attribute)

    def _range(self, *args: int) -> TickingRange:
        values = range(*args)
        _too_many(len(values), f"range() of {len(values):,} items")
        return TickingRange(self, values)

    def _lipsum(self, n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:
        """Deterministic lorem ipsum: the same arguments give the same text."""
        _too_many(n * max, f"lipsum() of {n} paragraphs of up to {max} words")
        rng = random.Random(f"lipsum {n} {html} {min} {max}")
        words = LOREM_IPSUM_WORDS.split()
        paragraphs = []
        for _ in range(n):
            chosen = [rng.choice(words) for _ in range(rng.randint(min, max) if max >= min else 0)]
            text = " ".join(chosen).capitalize() + "." if chosen else ""
            paragraphs.append(f"<p>{text}</p>" if html else text)
        return ("\n" if html else "\n\n").join(paragraphs)

    def _random(self, values: Any) -> Any:
        """Jinja's ``|random`` made deterministic: the position it picks depends on the length."""
        items = list(values)
        if not items:
            return self.undefined("No random item, sequence was empty.")
        return items[random.Random(f"random {len(items)}").randrange(len(items))]

    @contextmanager
    def bounded_time(self) -> Iterator[None]:
        """Run the body under the deadline (and, in the main thread, a profiling timer)."""
        self.deadline = time.process_time() + limits.MAX_TEMPLATE_SECONDS
        self.items_built = 0
        timer = threading.current_thread() is threading.main_thread() and hasattr(
            signal, "setitimer"
        )
        previous: Any = None
        if timer:
            previous = signal.signal(signal.SIGPROF, _on_timer)
            # A little later than the deadline: the checks above say where; this is a backstop.
            signal.setitimer(signal.ITIMER_PROF, limits.MAX_TEMPLATE_SECONDS + 0.5)
        try:
            yield
        finally:
            if timer:
                signal.setitimer(signal.ITIMER_PROF, 0)
                signal.signal(signal.SIGPROF, previous)
            self.deadline = None


def time_limit_message() -> str:
    """What a user sees when a render runs out of time."""
    return (
        f"rendering took more than {limits.MAX_TEMPLATE_SECONDS:g} s of CPU, the limit "
        "(synthc.limits.MAX_TEMPLATE_SECONDS)"
    )


def _on_timer(signum: int, frame: Any) -> None:
    raise TemplateLimit(time_limit_message())
