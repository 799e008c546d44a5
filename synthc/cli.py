"""Command line: parse arguments, call the API, print, exit (0 ok, 1 failure, 2 spec/usage)."""

from __future__ import annotations

import argparse
import io
import json
import os
import select
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from synthc import __version__, api
from synthc.errors import Position, SpecError, SynthcError, UsageError, one_line
from synthc.progress import progress_for


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="synthc", description="Compile YAML dataset specs into sharded datasets."
    )
    parser.add_argument("--version", action="version", version=f"synthc {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_vars(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--var",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="set a template variable (value typed as YAML); repeatable",
        )
        p.add_argument(
            "--allow-read",
            action="append",
            default=[],
            type=Path,
            metavar="DIR",
            help="let the spec read files under DIR too (besides its own directory, its "
            "repository and trdg's data); repeatable",
        )

    p = sub.add_parser("build", help="build (or incrementally rebuild) a dataset")
    p.add_argument("spec", type=Path)
    p.add_argument("-o", "--out", type=Path, help="output directory (default outputs/<name>)")
    with_vars(p)
    p.add_argument("--workers", type=int, help="local workers (default: CPU count)")
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run the shards on this Dask scheduler (e.g. tcp://host:8786) instead of locally; "
        "workers need synthc and the output directory at the same path",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="rebuild every shard; take over the files synthc would write in a directory "
        "whose build state is lost or refused (other files are left alone)",
    )
    p.add_argument("--dry-run", action="store_true", help="say what would be done, write nothing")

    p = sub.add_parser("validate", help="check specs and report every problem")
    p.add_argument("specs", type=Path, nargs="+")
    with_vars(p)

    p = sub.add_parser("plan", help="show the shard tasks of a spec")
    p.add_argument("spec", type=Path)
    with_vars(p)
    p.add_argument("--json", action="store_true", help="print the plan as JSON")

    p = sub.add_parser("verify", help="check a built dataset against its manifest")
    p.add_argument("out", type=Path)

    p = sub.add_parser("preview", help="draw a spec's first samples without building")
    p.add_argument("spec", type=Path)
    with_vars(p)
    p.add_argument("-n", type=int, default=None, help="samples (default 16 images, 4000 rows)")
    p.add_argument(
        "-o",
        "--out",
        type=Path,
        help="PNG to write (default outputs/<name>.preview.png; never inside an output directory)",
    )

    sub.add_parser("schema", help="print the JSON Schema of the spec format")
    _add_sample_parser(sub, with_vars)
    return parser


def _add_sample_parser(sub: Any, with_vars: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser(
        "sample", help="generate one sample alone: write its files, or print a table's row"
    )
    p.add_argument("spec", type=Path)
    p.add_argument(
        "--index",
        "-i",
        type=int,
        required=True,
        metavar="I",
        help="the global sample index, 0 <= I < samples (the key of its files)",
    )
    p.add_argument(
        "-o",
        "--out",
        type=Path,
        metavar="DIR",
        help="directory for the sample's files (default: the working directory); a table's "
        "row is printed as JSON, and written to DIR/<key>.json with -o",
    )
    with_vars(p)


#: exit code when the reader of our output went away (a shell's 128 + SIGPIPE), said nothing
EXIT_BROKEN_PIPE = 141


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    try:
        args = _parser().parse_args(argv)
        code = _run(args)
        sys.stdout.flush()  # a closed pipe must show here, not at interpreter exit
        return code
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        return 130  # interrupted before or after the command ran: nothing to report


def _silence_stdout() -> None:
    """Point stdout at /dev/null so Python's exit flush cannot fail on the closed pipe again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        pass  # stdout is not a file descriptor (tests capture it): nothing is flushed at exit


def _run(args: argparse.Namespace) -> int:
    try:
        return _COMMANDS[args.command](args)
    except BrokenPipeError as error:
        if _reader_gone():
            raise
        return _internal_error(error, args.debug)  # another pipe (a worker's) broke: a bug
    except SynthcError as error:
        _report(error)
        if args.debug:
            traceback.print_exc()
        return error.exit_code
    except KeyboardInterrupt:
        print(
            "synthc: interrupted; finished shards are kept, run the build again to resume",
            file=sys.stderr,
        )
        return 130
    except Exception as error:  # last resort: a bug must not print a traceback
        return _internal_error(error, args.debug)


def _internal_error(error: Exception, debug: bool) -> int:
    if debug:
        traceback.print_exc()
    print(
        one_line(f"synthc: internal error: {type(error).__name__}: {error}")
        + " (run with --debug for the traceback; please report it)",
        file=sys.stderr,
    )
    return 1


def _reader_gone() -> bool:
    """True if stdout or stderr is a pipe whose reader has closed it (poll reports an error)."""
    try:
        fds = [sys.stdout.fileno(), sys.stderr.fileno()]
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return False
    poller = select.poll()
    for fd in fds:
        poller.register(fd, 0)  # POLLERR is always reported: set on a pipe without a reader
    return any(events & select.POLLERR for _, events in poller.poll(0))


def _build(args: argparse.Namespace) -> int:
    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers must be >= 1")
    if args.scheduler and args.workers is not None:
        raise UsageError("--workers sizes the local pool; a Dask cluster has its own workers")
    result = api.build(
        args.spec,
        args.out,
        variables=api.parse_vars(args.var),
        workers=args.workers,
        scheduler=args.scheduler or None,
        force=args.force,
        dry_run=args.dry_run,
        progress=progress_for(sys.stderr),
        allow_read=args.allow_read,
        log=lambda message: print(f"synthc: {message}", file=sys.stderr),
    )
    total = result.plan.samples
    if result.dry_run:
        print(
            f"{result.out}: would build {result.built} shard(s), keep {result.kept}, "
            f"remove {result.removed}" + (" (up to date)" if result.up_to_date else "")
        )
    elif result.up_to_date:
        print(f"{result.out}: up to date ({result.kept} shards, {total} samples)")
    else:
        print(
            f"{result.out}: built {result.built} shard(s), kept {result.kept}, "
            f"removed {result.removed}; {total} samples in {result.seconds:.1f} s"
        )
    return 0


def _validate(args: argparse.Namespace) -> int:
    variables = api.parse_vars(args.var)
    failed = 0
    for spec in args.specs:
        try:
            api.validate(spec, variables, allow_read=args.allow_read)
            print(f"{spec}: ok")
        except SpecError as error:
            _report(error)
            failed += 1
    return 2 if failed else 0


def _plan(args: argparse.Namespace) -> int:
    plan = api.plan(args.spec, api.parse_vars(args.var), allow_read=args.allow_read)
    if args.json:
        print(json.dumps(plan.to_json(), indent=2))
        return 0
    print(f"{'split':<10} {'shard':>5} {'samples':>22} {'count':>9}  {'path':<32} key")
    for t in plan.tasks:
        print(
            f"{t.split:<10} {t.shard:>5} {f'[{t.start}, {t.stop})':>22} {t.samples:>9}  "
            f"{t.path:<32} {t.key[:12]}"
        )
    per_split = ", ".join(f"{k} {v[1] - v[0]}" for k, v in plan.splits.items())
    print(f"{len(plan.tasks)} shard(s), {plan.samples} samples ({per_split})")
    return 0


def _verify(args: argparse.Namespace) -> int:
    manifest = api.load_manifest(args.out)
    shards = api.verify(args.out)
    print(f"{args.out}: ok ({shards} shards, {manifest['samples']} samples verified)")
    return 0


def _preview(args: argparse.Namespace) -> int:
    result = api.write_preview(
        args.spec, args.out, api.parse_vars(args.var), args.n, allow_read=args.allow_read
    )
    print(f"{result.target}: preview of {result.samples} sample(s)")
    return 0


def _sample(args: argparse.Namespace) -> int:
    result = api.write_sample(
        args.spec,
        args.index,
        args.out,
        variables=api.parse_vars(args.var),
        allow_read=args.allow_read,
    )
    if result.row is not None and not result.files:
        print(result.row)
    for path in result.files:
        print(path)
    return 0


def _schema(args: argparse.Namespace) -> int:
    print(json.dumps(api.schema(), indent=2))
    return 0


_COMMANDS = {
    "build": _build,
    "validate": _validate,
    "plan": _plan,
    "verify": _verify,
    "schema": _schema,
    "preview": _preview,
    "sample": _sample,
}


def _report(error: SynthcError) -> None:
    if isinstance(error, SpecError):
        show_source = sys.stderr.isatty()
        for problem in error.problems:
            print(f"{problem}", file=sys.stderr)
            if show_source and problem.position is not None:
                _print_excerpt(problem.position)
        count = len(error.problems)
        if count > 1:
            print(f"synthc: {count} problems", file=sys.stderr)
    else:
        # Lines of a message are synthc's own (verify lists one problem per line); whatever
        # else they hold is escaped, so no value can start a line of its own.
        first, *rest = str(error).split("\n")
        print(one_line(f"synthc: error: {first}"), file=sys.stderr)
        for line in rest:
            print(one_line(line), file=sys.stderr)


def _print_excerpt(position: Position) -> None:
    if not position.known:
        return  # the message says the line is unknown
    try:
        line = Path(position.file).read_text().splitlines()[position.line - 1]
    except (OSError, IndexError, UnicodeDecodeError):
        return
    print(f"    {line}\n    {' ' * (position.col - 1)}^", file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
