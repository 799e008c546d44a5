"""Command line: parse arguments, call the API, print, exit (0 ok, 1 failure, 2 spec/usage)."""

from __future__ import annotations

import argparse
import contextlib
import errno
import io
import json
import os
import select
import sys
import traceback
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import synthc
from synthc import api
from synthc.arguments import Parser, count, sample_index, workers
from synthc.errors import Position, SpecError, SynthcError, UsageError, counted, one_line
from synthc.library_logs import show_library_logs
from synthc.own_process import Terminated
from synthc.own_process import setup as setup_own_process
from synthc.progress import progress_for


class _Version(argparse.Action):
    """``--version``: argparse's version action, with the version read only when it is asked
    for (reading it imports importlib.metadata, which every other command can do without)."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: Any) -> None:
        super().__init__(
            option_strings,
            dest,
            nargs=0,
            default=argparse.SUPPRESS,
            help="show program's version number and exit",
        )

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        print(f"synthc {synthc.__version__}")
        parser.exit()


def _parser() -> argparse.ArgumentParser:
    parser = Parser(prog="synthc", description="Compile YAML dataset specs into sharded datasets.")
    parser.add_argument("--version", action=_Version)
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
            type=_path,
            metavar="DIR",
            help="let the spec read files under DIR too (besides its own directory, its "
            "repository and trdg's data); repeatable",
        )
        p.add_argument(
            "--templates",
            type=_path,
            metavar="DIR",
            help="search include/import templates here after the spec's directory "
            "(default: the spec repository's root)",
        )

    p = sub.add_parser(
        "build",
        help="build (or incrementally rebuild) datasets",
        description="Build each SPEC into outputs/<name>. With several specs, -o DIR is their "
        "parent (DIR/<name>), --var applies to every spec, a spec that fails does not stop the "
        "others, a summary line per spec ends the run, and the exit status is the worst one "
        "(2 spec or usage error, 1 build failure, 0 ok). Two specs of one name are refused "
        "before anything is built.",
    )
    p.add_argument("specs", type=_spec_argument, nargs="+", metavar="SPEC")
    p.add_argument(
        "-o",
        "--out",
        type=_output,
        metavar="DIR",
        help="output directory (default outputs/<name>), or an object-store prefix such as "
        "s3://bucket/prefix (also gs://, az://, file://; see docs/storage.md); with several "
        "specs, their parent",
    )
    with_vars(p)
    p.add_argument(
        "--workers",
        type=workers,
        metavar="N",
        help="local workers, or the Dask LocalCluster's with --executor dask (default: CPU count)",
    )
    _add_executor(p, scheduler=True)
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run the shards on this Dask scheduler (e.g. tcp://host:8786) instead of locally "
        "(implies --executor dask); workers need synthc and the output directory at the same "
        "path (docs/dask.md)",
    )
    _add_worker_wait(
        p,
        "with Dask: how long the build waits while the cluster has no worker (their batch jobs "
        "still queued, or all of them gone) before it stops with an error (default: 600; inf: "
        "no limit)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="rebuild every shard; take over the files synthc would write in a directory "
        "whose build state is lost or refused (other files are left alone)",
    )
    p.add_argument("--dry-run", action="store_true", help="say what would be done, write nothing")
    p.add_argument(
        "--require-clean",
        action="store_true",
        help="refuse to build unless every input file is committed in the spec's git "
        "repository (release datasets)",
    )
    p.add_argument(
        "--depfile",
        type=_output_file("the depfile"),
        metavar="FILE",
        help="write a Make rule OUT/manifest.json: INPUTS... to FILE (for make and ninja)",
    )
    p.add_argument(
        "--restat",
        action="store_true",
        help="for ninja's restat = 1: an up-to-date build leaves manifest.json's time alone "
        "(ninja remembers the check), so what depends on the dataset is not rebuilt",
    )
    _add_quiet(p)

    p = sub.add_parser(
        "validate",
        help="check specs and report every problem",
        description="Check each SPEC and report every problem of every spec, one line each; "
        "print 'SPEC: ok' for each spec that passes. --var applies to every spec; the exit "
        "status is 2 if any spec has a problem.",
    )
    p.add_argument("specs", type=_spec_argument, nargs="+", metavar="SPEC")
    with_vars(p)

    p = sub.add_parser(
        "plan",
        help="show the shard tasks of specs",
        description="Print each SPEC's shard tasks. With -o, say per shard what a build into "
        "that directory would do: keep it (current), build it, or remove it (no longer "
        "planned); nothing is written. With several specs, -o DIR is their parent "
        "(DIR/<name>) and --var applies to every spec.",
    )
    p.add_argument("specs", type=_spec_argument, nargs="+", metavar="SPEC")
    p.add_argument(
        "-o",
        "--out",
        type=_output,
        metavar="DIR",
        help="compare with this output directory (or s3://bucket/prefix): a keep/build/remove "
        "status per shard (with several specs, their parent)",
    )
    with_vars(p)
    p.add_argument(
        "--force",
        action="store_true",
        help="with -o: what build --force would do (every shard built, a lost or refused "
        "build state set aside, files synthc would write taken over)",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print the plan as JSON (with -o: each task's status, the shards to remove and "
        "the counts; with several specs: a list, each with its spec)",
    )

    p = sub.add_parser(
        "diff",
        help="what changes from OLD to NEW (built outputs or specs)",
        description="Compare two datasets, each a built output directory or store URL (its "
        "manifest) or a "
        "spec (compiled and planned, never built): changed config fields as dotted paths, "
        "seed, vars, input files and library versions, and per split the shards unchanged, "
        "changed, added and removed with their sample ranges. Exit 0 when the content is "
        "identical, 1 when it differs, 2 on a usage or spec error. --var, --allow-read and "
        "--templates apply to the sides that are specs (refused when both sides are built).",
    )
    p.add_argument(
        "old", type=_output, metavar="OLD", help="a built output directory (or URL) or a spec"
    )
    p.add_argument(
        "new", type=_output, metavar="NEW", help="a built output directory (or URL) or a spec"
    )
    with_vars(p)  # for the sides that are specs
    p.add_argument("--json", action="store_true", help="print the diff as one JSON object")

    p = sub.add_parser(
        "verify",
        help="check a built dataset against its manifest",
        description="Check DIR's manifest, re-hash and re-count every shard, check its fact "
        "files, spec copies and unlisted shards. Exit 0 when all match, 1 naming each problem "
        "and the synthc build command that repairs it, 2 on a usage error.",
    )
    p.add_argument(
        "out", type=_output, metavar="DIR", help="an output directory or s3://bucket/prefix"
    )

    p = sub.add_parser("preview", help="draw a spec's first samples without building")
    p.add_argument("spec", type=_spec_argument, metavar="SPEC")
    with_vars(p)
    p.add_argument("-n", type=count, default=None, help="samples (default 16 images, 4000 rows)")
    p.add_argument(
        "-o",
        "--out",
        type=_output_file("the preview PNG"),
        metavar="FILE",
        help="PNG to write (default outputs/<name>.preview.png; never inside an output directory)",
    )

    sub.add_parser("schema", help="print the JSON Schema of the spec format")
    _reproduce_parser(sub)
    _add_sample_parser(sub, with_vars)
    return parser


def _add_executor(p: argparse.ArgumentParser, scheduler: bool = False) -> None:
    """``--executor``; ``scheduler``: the command also takes ``--scheduler`` (build does,
    reproduce does not), so the help may send the user there."""
    at_scheduler = ", or the cluster at --scheduler" if scheduler else ""
    p.add_argument(
        "--executor",
        choices=("local", "dask"),
        help="where shards run: local (a pool of --workers threads or processes, the default) "
        f"or dask (a Dask LocalCluster of --workers processes started for this run{at_scheduler})",
    )


def _add_worker_wait(p: argparse.ArgumentParser, text: str) -> None:
    """``--worker-wait``: build's and reproduce's, checked by synthc.api as one."""
    p.add_argument("--worker-wait", type=float, metavar="SECONDS", help=text)


def _reproduce_parser(sub: argparse._SubParsersAction[Parser]) -> None:
    p = sub.add_parser(
        "reproduce", help="rebuild a dataset from its recorded spec and inputs and compare"
    )
    p.add_argument(
        "out",
        type=_output,
        metavar="DIR",
        help="the output directory of a build (or its s3://bucket/prefix)",
    )
    p.add_argument(
        "--workers",
        type=workers,
        metavar="N",
        help="local workers, or the Dask LocalCluster's with --executor dask (default: CPU count)",
    )
    _add_executor(p)
    _add_worker_wait(
        p,
        "with --executor dask: how long the rebuild waits while its LocalCluster has no worker "
        "(none started yet, or all of them gone) before it stops with an error (default: 600; "
        "inf: no limit)",
    )
    p.add_argument(
        "--root",
        type=_path,
        metavar="DIR",
        help="the spec repository's root (default: the git work tree holding the current "
        "directory, else the current directory)",
    )
    p.add_argument(
        "--allow-read",
        action="append",
        default=[],
        type=_path,
        metavar="DIR",
        help="let the spec read files under DIR too, as its build did; repeatable",
    )
    p.add_argument(
        "--templates",
        type=_path,
        metavar="DIR",
        help="search include/import templates here after the spec's directory, as its build "
        "did (default: the spec repository's root)",
    )
    _add_quiet(p)


def _add_quiet(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="print only errors: no progress, notes or result line (the exit status says how "
        "it went)",
    )


def _note(args: argparse.Namespace) -> Callable[[str], None]:
    """Where a command's notes and warnings go: stderr, or nowhere with --quiet."""
    if getattr(args, "quiet", False):  # validate and plan print theirs always
        return lambda message: None
    return lambda message: print(one_line(f"synthc: {message}"), file=sys.stderr)


def _add_sample_parser(sub: Any, with_vars: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser(
        "sample", help="generate one sample alone: write its files, or print a table's row"
    )
    p.add_argument("spec", type=_spec_argument, metavar="SPEC")
    p.add_argument(
        "--index",
        "-i",
        type=sample_index,
        required=True,
        metavar="I",
        help="the global sample index, 0 <= I < samples (the key of its files)",
    )
    p.add_argument(
        "-o",
        "--out",
        type=_sample_output,
        metavar="DIR",
        help="directory for the sample's files (default: the working directory); a table's "
        "row is printed as JSON, or with -o written to DIR/<key>.json instead",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="replace files of the sample's names already there (refused otherwise, unless "
        "they hold the sample's bytes)",
    )
    with_vars(p)


#: exit code when the reader of our output went away (a shell's 128 + SIGPIPE), said nothing
EXIT_BROKEN_PIPE = 141
#: exit codes of a command stopped by Ctrl-C (128 + SIGINT) and by SIGTERM (128 + SIGTERM)
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143


def _spec_argument(text: str) -> Path | str:
    """A SPEC argument as a path; a URL as given (``Path`` would make ``s3://b/x`` the path
    ``s3:/b/x``), which compiling refuses with what to do instead."""
    return text if "://" in text else _path(text)


def _path(text: str) -> Path:
    """A path argument; an empty one is refused: ``Path("")`` is the current directory, so an
    unset variable (``-o "$OUT"``) built into, searched or read the working directory."""
    if not text:
        raise argparse.ArgumentTypeError(
            "an empty path (an unset shell variable?); give the path, or . for the current "
            "directory"
        )
    return Path(text)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code. Called without ``argv`` (the `synthc`
    command, ``python -m synthc``), the process is synthc's own (synthc.own_process)."""
    if argv is None:
        setup_own_process()
    try:
        args = _parser().parse_args(argv)
        if argv is None:
            show_library_logs(args.debug)
        code = _run(args)
        sys.stdout.flush()  # a closed pipe must show here, not at interpreter exit
        return code
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except OSError as error:  # the last of the output did not fit where stdout goes
        if error.errno not in _FULL:
            raise
        return _output_lost(error)
    except KeyboardInterrupt as stop:
        # interrupted before or after the command ran: nothing to report
        return EXIT_TERMINATED if isinstance(stop, Terminated) else EXIT_INTERRUPTED


#: errors of a write that found no room: where stdout goes is full (`synthc schema > /dev/full`)
_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def _output_lost(error: OSError) -> int:
    """Say that the command's output could not be written, and why; exit 1 (the user's disk,
    not a bug of synthc's)."""
    _silence_stdout()  # what is still buffered would fail again at exit
    print(
        f"synthc: error: cannot write the command's output: {error.strerror or error}; make "
        "room where stdout goes, or send it elsewhere",
        file=sys.stderr,
    )
    return 1


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
            _print_traceback(error)
        return error.exit_code
    except KeyboardInterrupt as stop:
        terminated = isinstance(stop, Terminated)
        for note in getattr(stop, "__notes__", ()):  # what could not be done while stopping
            print(f"synthc: {one_line(str(note))}", file=sys.stderr)
        stopped = "terminated" if terminated else "interrupted"
        print(f"synthc: {stopped}{_STOPPED.get(args.command, '')}", file=sys.stderr)
        return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED
    except FileNotFoundError as error:
        if _cwd_exists():
            return _internal_error(error, args.debug)
        # a relative path (or a depfile's spelling) met a current directory removed under us
        _report(UsageError("the current directory was removed; run synthc from one that exists"))
        return UsageError.exit_code
    except OSError as error:
        if error.errno in _FULL and error.filename is None:
            return _output_lost(error)  # synthc's own files are named: this is stdout
        if error.errno != errno.ENAMETOOLONG:
            return _internal_error(error, args.debug)
        # a path typed (or put together from one typed) longer than the file system takes
        _report(UsageError(_too_long(error)))
        if args.debug:
            traceback.print_exc()
        return UsageError.exit_code
    except Exception as error:  # last resort: a bug must not print a traceback
        return _internal_error(error, args.debug)


#: what a stopped command leaves behind, after "synthc: interrupted" (the others write nothing
#: a later run would use: their line says only that they stopped)
_STOPPED = {
    "build": "; finished shards are kept, run the build again to resume",
    "reproduce": "; its rebuild in the temporary directory was removed, the dataset is untouched",
}


def _too_long(error: OSError) -> str:
    """The message of an ENAMETOOLONG ``error``: the path, and what to do."""
    name = error.filename
    path = os.fsdecode(name) if isinstance(name, str | bytes) else "a path"
    shown = path if len(path) <= 120 else f"{path[:60]}...{path[-40:]}"
    return (
        f"{shown}: file name too long: a name in this path is longer than the file system "
        "allows (usually 255 bytes), or the whole path is (usually 4096); give a shorter path"
    )


def _cwd_exists() -> bool:
    try:
        os.getcwd()
    except FileNotFoundError:
        return False
    return True


def _print_traceback(error: SynthcError) -> None:
    """--debug: ``error``'s traceback; for a shard that failed, the traceback of the task
    where it raised (a worker process's, or a Dask worker's), then where this process raised
    the error (its chain would only repeat the task's exception, without the worker's lines)."""
    text = getattr(error, "worker_traceback", None)
    if not text:
        traceback.print_exc()
        return
    print("synthc: the failed task's traceback:", file=sys.stderr)
    print(text.rstrip("\n"), file=sys.stderr)
    traceback.print_exception(error, chain=False, file=sys.stderr)


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
    if args.scheduler is not None and args.workers is not None:
        raise UsageError("--workers sizes the local pool; a Dask cluster has its own workers")
    if args.scheduler is not None and args.executor == "local":
        raise UsageError("--scheduler runs the shards on Dask; drop --executor local")
    if args.scheduler is not None and args.scheduler.startswith("inproc://"):
        raise UsageError(
            f"--scheduler {args.scheduler!r}: an inproc:// scheduler lives inside one Python "
            "process, never one this command could reach; give its tcp:// (or tls://) address"
        )
    dask = args.executor == "dask" or args.scheduler is not None
    if dask:  # once, not for each spec
        api.check_dask_installed()
    if args.worker_wait is not None and not dask:
        raise UsageError(
            "--worker-wait bounds a Dask build's wait for workers: give it with --scheduler or "
            "--executor dask"
        )
    if args.restat and args.depfile is None:
        raise UsageError("--restat tells ninja about the depfile's rule: give it with --depfile")
    if args.depfile is not None and len(args.specs) > 1:
        raise UsageError(
            "--depfile names one dataset's dependencies: build each spec with its own --depfile"
        )
    # several specs with --executor dask share one LocalCluster, started when first needed;
    # with --scheduler, a scheduler that did not answer is not waited for once per spec
    shared = api.shared_local_clusters() if dask else contextlib.nullcontext()
    with shared:
        return _each_spec(
            args,
            lambda spec, out: _build_one(args, spec, out),
            echo=not args.quiet,
            default_out=True,
            quiet=args.quiet,
        )


def _build_one(args: argparse.Namespace, spec: Path, out: Path | str | None) -> str:
    """Build one spec; the line that says what was done."""
    result = api.build(
        spec,
        out,
        variables=api.parse_vars(args.var),
        workers=args.workers,
        executor=args.executor,
        scheduler=args.scheduler,
        worker_wait=args.worker_wait,
        force=args.force,
        dry_run=args.dry_run,
        progress=progress_for(sys.stderr, quiet=args.quiet),
        allow_read=args.allow_read,
        log=_note(args),
        require_clean=args.require_clean,
        templates=args.templates,
        depfile=args.depfile,
        restat=args.restat,
    )
    total = result.plan.samples
    if result.dry_run:
        return (
            f"{result.out}: would build {result.built} shard(s), keep {result.kept}, "
            f"remove {result.removed}" + (" (up to date)" if result.up_to_date else "")
        )
    if result.up_to_date:
        held = f"{counted(result.kept, 'shard')}, {counted(total, 'sample')}"
        return f"{result.out}: up to date ({held})"
    return (
        f"{result.out}: built {result.built} shard(s), kept {result.kept}, "
        f"removed {result.removed}; {counted(total, 'sample')} in {result.seconds:.1f} s"
    )


def _validate(args: argparse.Namespace) -> int:
    variables = api.parse_vars(args.var)
    failed = 0
    names: list[tuple[Path, str]] = []
    several = len(args.specs) > 1
    for spec in args.specs:
        try:
            valid = api.validate(
                spec,
                variables,
                allow_read=args.allow_read,
                templates=args.templates,
                log=_note(args),
            )
            names.append((spec, valid.name))
            print(one_line(f"{spec}: ok"))
        except (SpecError, UsageError) as error:
            if not several:
                raise
            # as build and plan do: a spec that fails (a missing file too) stops no other
            _report(error, spec)
            if args.debug:
                traceback.print_exc()
            failed += 1
    try:
        _check_distinct_names(names)
    except UsageError as error:
        _report(error)
        failed += 1
    return 2 if failed else 0


def _plan(args: argparse.Namespace) -> int:
    if args.force and args.out is None:
        raise UsageError(
            "--force says what build --force would do to an output: give it with -o DIR"
        )
    several = len(args.specs) > 1
    documents: list[dict[str, object]] = []

    def one(spec: Path, out: Path | str | None) -> str:
        variables = api.parse_vars(args.var)
        status = None
        where = {"allow_read": args.allow_read, "templates": args.templates, "log": _note(args)}
        if out is None:
            plan = api.plan(spec, variables, **where)
            data = plan.to_json()
        else:
            status = api.plan_status(spec, out, variables, force=args.force, **where)
            plan, data = status.plan, status.to_json()
        summary = _plan_summary(plan, status)
        if args.json:
            documents.append({"spec": str(spec), **data} if several else data)
        else:
            if several:
                print(one_line(f"# {spec}" + (f" -> {out}" if out is not None else "")))
            _print_plan(plan, status)
            print(one_line(summary))
        return summary

    code = _each_spec(
        args, one, echo=False, default_out=False, summary_to=sys.stderr if args.json else None
    )
    if args.json:  # one spec: its plan, or it raised before; several: the list of those planned
        print(json.dumps(documents if several else documents[0], indent=2))
    return code


def _print_plan(plan: api.Plan, status: api.PlanStatus | None) -> None:
    """The plan's table; with a status, a first column says keep, build or remove."""
    head = f"{'status':<7}" if status is not None else ""
    print(f"{head}{'split':<10} {'shard':>5} {'samples':>22} {'count':>9}  {'path':<32} key")
    if status is None:
        rows = [("", t.split, t.shard, t.start, t.stop, t.path, t.key) for t in plan.tasks]
    else:
        rows = [(f"{s.status:<7}", s.split, s.shard, s.start, s.stop, s.path, s.key)
                for s in status.shards]  # fmt: skip
    for mark, split, shard, start, stop, path, key in rows:
        print(
            f"{mark}{one_line(split):<10} {shard:>5} {f'[{start}, {stop})':>22} "
            f"{stop - start:>9}  {one_line(path):<32} {one_line(key[:12])}"
        )


def _plan_summary(plan: api.Plan, status: api.PlanStatus | None) -> str:
    per_split = ", ".join(f"{k} {v[1] - v[0]}" for k, v in plan.splits.items())
    line = f"{len(plan.tasks)} shard(s), {counted(plan.samples, 'sample')} ({per_split})"
    if status is not None:
        line += (
            f"; {status.out}: keep {status.count('keep')}, build {status.count('build')}, "
            f"remove {status.count('remove')}"
        )
    return line


def _diff(args: argparse.Namespace) -> int:
    result = api.diff(
        args.old,
        args.new,
        api.parse_vars(args.var),
        allow_read=args.allow_read,
        templates=args.templates,
    )
    if args.json:
        print(json.dumps(result.to_json(), indent=2, ensure_ascii=True))
    else:
        print("\n".join(api.diff_lines(result)))
    return 0 if result.identical else 1


def _each_spec(
    args: argparse.Namespace,
    run: Callable[[Path, Any], str],
    *,
    echo: bool,
    default_out: bool,
    summary_to: TextIO | None = None,
    quiet: bool = False,
) -> int:
    """``run(spec, out)`` for every spec of ``args.specs``; returns the worst exit code.

    One spec: ``-o`` as given, errors raised as always, ``run``'s line printed if ``echo``.
    Several: each goes to ``<-o>/<name>`` (without -o: outputs/<name> if ``default_out``, else
    None); a spec that fails is reported and the others still run; one summary line per spec
    at the end (to ``summary_to``, default stdout). ``quiet``: errors only, no lines of ours.
    """
    if len(args.specs) == 1:
        line = run(args.specs[0], args.out)
        if echo:
            print(one_line(line))
        return 0
    problem = api.url_problem(args.out) if isinstance(args.out, str) else None
    if problem is not None:  # before each spec's output under it is printed
        raise UsageError(problem)
    if isinstance(args.out, str) and api.is_store_url(args.out) and not api.local_path(args.out):
        api.check_store_packages(args.out)  # once, not for each spec
    targets = _targets(args, default_out)
    summary: list[str] = []
    codes: list[int] = []
    for index, (spec, out, code) in enumerate(targets, 1):
        line = ""
        if code == 0:
            where = f" -> {_shown(out)}" if out is not None else ""
            if not quiet:
                print(one_line(f"synthc: [{index}/{len(targets)}] {spec}{where}"), file=sys.stderr)
            try:
                line = run(spec, out)
            except SynthcError as error:
                _report(error)
                if args.debug:
                    _print_traceback(error)
                code = error.exit_code
        codes.append(code)
        what = "spec or usage error" if code == 2 else "failed"
        summary.append(f"{spec}: {line}" if code == 0 else f"{spec}: {what} (exit {code})")
    failed = sum(1 for code in codes if code)
    if quiet:
        return max(codes)
    stream = summary_to or sys.stdout
    for line in summary:
        print(one_line(line), file=stream)
    print(f"synthc: {len(codes)} specs, {len(codes) - failed} ok, {failed} failed", file=stream)
    return max(codes)


def _targets(
    args: argparse.Namespace, default_out: bool
) -> list[tuple[Path, Path | str | None, int]]:
    """Each spec with its output (``<-o>/<name>``; without -o outputs/<name>, or None unless
    ``default_out``) and its exit code so far: a spec that does not compile is reported now and
    carries its code. Two specs of one name are a UsageError naming both, before anything
    runs."""
    variables = api.parse_vars(args.var)
    targets: list[tuple[Path, Path | str | None, int]] = []
    names: list[tuple[Path, str]] = []
    for spec in args.specs:
        try:
            valid = api.validate(
                spec, variables, allow_read=args.allow_read, templates=args.templates
            )
        except SynthcError as error:
            _report(error, spec if len(args.specs) > 1 else None)
            targets.append((spec, None, error.exit_code))
            continue
        names.append((spec, valid.name))
        if args.out is not None:
            targets.append((spec, _child(args.out, valid.name), 0))
        else:
            targets.append((spec, api.default_output(valid) if default_out else None, 0))
    _check_distinct_names(names)
    return targets


def _shown(out: Path | str) -> Path | str:
    """An output as printed: a URL without its credentials, query or fragment."""
    return api.public_url(out) if isinstance(out, str) else out


def _output(text: str) -> Path | str:
    """An output as typed: text with ``://`` stays a string (a URL such as
    ``s3://bucket/prefix``, checked where it is used: synthc.api refuses a URL typed wrong
    rather than making a directory named after it), a path is a Path. A URL typed with one
    slash (``s3:/bucket/prefix``) is refused: as a path it built into a local folder ``s3:``;
    so is a path starting with an unexpanded ``~``."""
    if "://" in text:
        return text
    if not text:
        return _path(text)  # refused
    if text.startswith("~"):
        # no shell expanded it (a quoted "~/out", a Makefile's or a program's argument list):
        # as a path it made a folder named ~ here, which `rm -rf ~` then removes with the home
        first = text.split("/")[0]
        raise argparse.ArgumentTypeError(
            f"{text}: {first!r} was not expanded to a home directory (it was quoted, or no "
            f"shell read it); write the home's path, or ./{text} for a file or folder named "
            f"{first!r} here"
        )
    meant = api.one_slash_url(text) if ":/" in text else None
    if meant is not None:
        url = api.public_url(meant)  # its secrets left out, as every URL synthc prints
        typed = f"{text.partition(':/')[0]}:/{url.partition('://')[2].lstrip('/')}"
        raise argparse.ArgumentTypeError(
            f"{typed}: a URL has two slashes after its scheme: did you mean {url}? (for a "
            f"local path of that name: ./{typed})"
        )
    return _path(text)


def _sample_output(text: str) -> Path | str:
    """``synthc sample -o``: as :func:`_output`, refusing ``-``, which would be a directory."""
    if text == "-":
        raise argparse.ArgumentTypeError(
            "'-' is no stdout here: a sample's files are written into a directory, and a "
            "table's row is printed on stdout without -o (for a directory named '-': -o ./-)"
        )
    return _output(text)


def _output_file(what: str) -> Callable[[str], Path | str]:
    """The type of an option naming a file to write (``what`` it holds, for messages): as
    :func:`_output`, but a name ending in ``/`` stays text, so the command can refuse it as a
    directory (a Path would drop the slash and write a file named after the folder). ``-`` is
    refused: it reads as stdout, and was written as a file named ``-`` in the working
    directory."""

    def parse(text: str) -> Path | str:
        if text == "-":
            raise argparse.ArgumentTypeError(
                f"'-' is no stdout here: {what} is written to the file named; give its path "
                "(for a file named '-': ./-)"
            )
        return text if text.endswith(("/", os.sep)) else _output(text)  # "" refused there

    return parse


def _child(out: Path | str, name: str) -> Path | str:
    """``out/name``: a folder of a directory, or a key prefix under a URL."""
    return out / name if isinstance(out, Path) else f"{out.rstrip('/')}/{name}"


def _check_distinct_names(names: list[tuple[Path, str]]) -> None:
    """UsageError naming both files when two specs have one ``name`` (one output each), or
    names that differ only in case (one folder on macOS or Windows)."""
    seen: dict[str, tuple[Path, str]] = {}
    for spec, name in names:
        if name.casefold() in seen:
            first, other = seen[name.casefold()]
            if _same_file(first, spec):
                raise UsageError(
                    f"{first} and {spec}: the same spec given twice (a glob and its name, say); "
                    "give each spec once"
                )
            if other == name:
                raise UsageError(
                    f"{first} and {spec}: both name the dataset {name!r}, and each dataset "
                    "builds into its own <output>/<name>; rename one"
                )
            raise UsageError(
                f"{first} and {spec}: the dataset names {other!r} and {name!r} differ only in "
                "case, and each builds into its own <output>/<name>: one folder on macOS or "
                "Windows; rename one"
            )
        seen[name.casefold()] = (spec, name)


def _same_file(one: Path, other: Path) -> bool:
    """Whether two spec paths, both read already, name one file."""
    try:
        return os.path.samefile(one, other)
    except (OSError, ValueError):
        return False


def _verify(args: argparse.Namespace) -> int:
    manifest = api.load_manifest(args.out)
    shards = api.verify(args.out, manifest=manifest)
    verified = f"{counted(shards, 'shard')}, {counted(manifest['samples'], 'sample')}"
    print(one_line(f"{_shown(args.out)}: ok ({verified} verified)"))
    return 0


def _preview(args: argparse.Namespace) -> int:
    result = api.write_preview(
        args.spec,
        args.out,
        api.parse_vars(args.var),
        args.n,
        allow_read=args.allow_read,
        templates=args.templates,
    )
    if args.n is not None and args.n > result.samples:  # said, not silently fewer
        has = counted(result.samples, "sample", grouped=True)
        print(
            f"synthc: note: -n {args.n:,}: the spec has only {has}; the preview draws them all",
            file=sys.stderr,
        )
    print(one_line(f"{result.target}: preview of {result.samples} sample(s)"))
    return 0


def _sample(args: argparse.Namespace) -> int:
    result = api.write_sample(
        args.spec,
        args.index,
        args.out,
        variables=api.parse_vars(args.var),
        allow_read=args.allow_read,
        templates=args.templates,
        force=args.force,
    )
    if result.row is not None and not result.files:
        print(result.row)
    for path in result.files:  # one line each, a name holding a line break escaped
        print(one_line(str(path)))
    return 0


def _schema(args: argparse.Namespace) -> int:
    print(json.dumps(api.schema(), indent=2))
    return 0


def _reproduce(args: argparse.Namespace) -> int:
    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers must be >= 1")
    result = api.reproduce(
        args.out,
        workers=args.workers,
        executor=args.executor or "local",
        worker_wait=args.worker_wait,
        root=args.root,
        allow_read=args.allow_read,
        templates=args.templates,
        progress=progress_for(sys.stderr, quiet=args.quiet),
        log=_note(args),
    )
    if result.identical:
        if args.quiet:
            return 0
        print(
            one_line(
                f"{_shown(args.out)}: reproduced: {result.shards} shard(s) and the content hash "
                f"{result.content_sha256[:16]}… match the manifest (spec compiled at "
                f"{result.spec})"
            )
        )
        return 0
    shards = sum(d.path != "content_sha256" for d in result.differences)
    fields = sum(d.path != "…" for d in result.fields)
    print(
        one_line(
            f"synthc: error: {_shown(args.out)}: does not reproduce: {shards} of {result.shards} "
        )
        + "shard(s) differ"
        + (f"; {fields} manifest field(s) differ from the rebuild's" if fields else ""),
        file=sys.stderr,
    )
    for difference in (*result.fields, *result.differences):
        print(f"  {difference}", file=sys.stderr)
    if result.inputs and args.quiet:  # not logged before the build: named here
        for line in result.input_lines:
            print(f"  {one_line(line)}", file=sys.stderr)
    elif result.inputs:
        print(
            f"  ({len(result.inputs)} recorded input(s) not as built, named above)",
            file=sys.stderr,
        )
    if result.unexplained:
        print(
            "  (the same synthc, library versions, inputs and task keys: the generator made "
            "other bytes from the same seed, config and sample index, so it is not a pure "
            "function of them, or its code changed without a new version)",
            file=sys.stderr,
        )
    elif result.output_only:
        print(
            "  (the rebuild matches the manifest; the output's own files do not: synthc verify "
            "checks them and names the command that repairs them)",
            file=sys.stderr,
        )
    return 1


_COMMANDS = {
    "build": _build,
    "validate": _validate,
    "plan": _plan,
    "diff": _diff,
    "verify": _verify,
    "schema": _schema,
    "preview": _preview,
    "reproduce": _reproduce,
    "sample": _sample,
}


def _report(error: SynthcError, spec: Path | None = None) -> None:
    """Print ``error``; ``spec``: the spec it is about, named before a problem that has no
    position of its own (an unread ``--var``) when a command was given several specs."""
    if isinstance(error, SpecError):
        show_source = sys.stderr.isatty()
        for problem in error.problems:
            named = f"{spec}: " if spec is not None and problem.position is None else ""
            print(f"{named}{problem}", file=sys.stderr)
            if show_source and problem.position is not None:
                _print_excerpt(problem.position)
        if len(error.problems) > 1:
            print(f"synthc: {len(error.problems)} problems", file=sys.stderr)
    else:
        # Lines of a message that lists problems are synthc's own (verify's, one a line);
        # whatever else they hold is escaped, so no value can start a line of its own.
        first, *rest = str(error).split("\n") if error.multiline else [str(error)]
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
    print(f"    {line}\n    {_blank_as_wide(line[: position.col - 1])}^", file=sys.stderr)


def _blank_as_wide(text: str) -> str:
    """Blanks that take as many terminal columns as ``text``, so a caret after them stands
    under the character that follows it."""
    return "".join(_blank(char) for char in text)


def _blank(char: str) -> str:
    """A tab stays a tab (a terminal expands it to the same stop), a wide character (CJK) is
    two spaces, a combining mark none, any other character one space."""
    if char == "\t":
        return char
    if unicodedata.combining(char):
        return ""
    return "  " if unicodedata.east_asian_width(char) in ("W", "F") else " "


if __name__ == "__main__":
    raise SystemExit(main())
