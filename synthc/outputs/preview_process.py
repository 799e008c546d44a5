"""preview.png drawn in a child process started early, beside the shards rather than after them.

The child (``python -m synthc.outputs.preview_process OUT PARENT_PID``) imports polars and
matplotlib at once, then waits for one request on stdin: a line of JSON with the preview kind,
the shards to read (paths inside OUT) and the caption. It draws them with the code a build runs
in-process (``preview_of_shards``) and answers on stdout ``png <length>`` and the PNG bytes, or
``error <message>`` on one line, then exits. It also exits at the end of its stdin (the parent
closed it or died) and when its parent dies (PR_SET_PDEATHSIG on Linux), and ignores SIGINT
like the workers (the parent decides what Ctrl-C means). The request is untrusted: its paths
must stay inside OUT, its sizes are bounded.

The parent's side is :class:`PreviewProcess`: ``start`` it once a build knows it will draw a
points or table preview, tell it each shard ``written`` (the request goes out, from a thread,
once the shards the preview reads are all there), and ``drawn`` gives the finisher the bytes,
waiting if needed. Whatever goes wrong with the child (it cannot start, dies, answers nonsense,
reports an error) makes ``drawn`` return None, and the finisher draws in-process as before: a
drawing error is then raised there, as it always was.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import site
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import synthc
from synthc.errors import OutputError
from synthc.generators.base import PreviewKind
from synthc.outputs.caption import Caption
from synthc.outputs.confine import Confiner
from synthc.outputs.preview import default_samples, preview_of_shards

#: the preview kinds drawn with matplotlib, the ones worth a child process
DRAWN_KINDS: tuple[PreviewKind, ...] = ("points", "table")
#: bytes of a request line at most (captions name every column of a wide table)
MAX_REQUEST_BYTES = 16 * 1024 * 1024
#: column descriptions a request's caption holds at most
MAX_CAPTION_COLUMNS = 100_000
#: bytes of an answer's PNG at most
MAX_PNG_BYTES = 256 * 1024 * 1024
#: characters of an error line at most
MAX_ERROR_CHARS = 2000
#: how long the finisher waits for the child's answer before drawing in-process
WAIT_SECONDS = 300.0

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PR_SET_PDEATHSIG = 1
_MODULE = "synthc.outputs.preview_process"


def worth_a_child(kind: PreviewKind) -> bool:
    """Whether drawing a preview of ``kind`` in a child saves time: it is drawn with matplotlib,
    which this process has not imported. A process that has (a Python session or a test run
    that drew a preview before) draws the next one in far less time than a child takes to
    import matplotlib and polars."""
    return kind in DRAWN_KINDS and "matplotlib" not in sys.modules


def child_command(out: Path) -> list[str]:
    """The command that starts the child drawing from the output directory ``out``."""
    # -P: the working directory does not come first; PYTHONPATH (child_environment) picks the
    # synthc the parent runs, so the child draws with the same code
    return [sys.executable, "-P", "-m", _MODULE, str(out), str(os.getpid())]


def child_environment() -> dict[str, str]:
    """The parent's environment, with the directory the parent's synthc came from first on
    PYTHONPATH (unless it is a site-packages directory, which must not come before the
    standard library)."""
    root = Path(synthc.__file__).resolve().parent.parent
    sites = {Path(p).resolve() for p in [*site.getsitepackages(), site.getusersitepackages()]}
    if root in sites:
        return dict(os.environ)
    given = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    paths = [str(root), *(p for p in given if p and p != str(root))]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


class PreviewProcess:
    """A child drawing preview.png of ``kind`` from the shards ``shards`` (in plan order,
    relative to the output directory) with ``caption``, once they are all written."""

    def __init__(
        self,
        process: subprocess.Popen[bytes],
        kind: PreviewKind,
        shards: list[str],
        caption: Caption,
    ) -> None:
        self.process = process
        self.kind, self.shards, self.caption = kind, shards, caption
        self.missing = set(shards)
        self.answer: bytes | None = None
        self.thread: threading.Thread | None = None

    @classmethod
    def start(
        cls,
        out: Path,
        kind: PreviewKind,
        shards: list[str],
        caption: Caption,
        written: set[str] | frozenset[str] = frozenset(),
    ) -> PreviewProcess | None:
        """Start the child for ``out`` (None if it cannot be started, or is not worth it:
        :func:`worth_a_child`); ``written``: shards already there (kept from an earlier
        build)."""
        if not worth_a_child(kind):
            return None
        try:
            with _sigint_blocked():  # the child ignores SIGINT before it could act on one
                process = subprocess.Popen(
                    child_command(out),
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    env=child_environment(),
                )
        except (OSError, ValueError, subprocess.SubprocessError):
            return None
        drawer = cls(process, kind, shards, caption)
        for path in written:
            drawer.written(path)
        if not shards:
            drawer._send()
        return drawer

    def written(self, path: str) -> None:
        """Shard ``path`` is complete; the request goes out when the last one it reads is."""
        if path in self.missing:
            self.missing.discard(path)
            if not self.missing:
                self._send()

    def _send(self) -> None:
        if self.thread is not None:
            return
        request = {
            "kind": self.kind,
            "shards": self.shards,
            "caption": {
                "name": self.caption.name,
                "total": self.caption.total,
                "descriptions": dict(self.caption.descriptions),
            },
        }
        line = json.dumps(request).encode() + b"\n"
        # written and answered in a thread: a long request would block on a child still
        # importing matplotlib, and a long answer on a full pipe
        self.thread = threading.Thread(
            target=self._exchange, args=(line,), name="synthc-preview", daemon=True
        )
        self.thread.start()

    def _exchange(self, line: bytes) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        try:
            self.process.stdin.write(line)
            self.process.stdin.flush()
            self.answer = read_answer(self.process.stdout)
        except (OSError, ValueError):
            self.answer = None

    def drawn(self, kind: PreviewKind, shards: list[str], caption: Caption) -> bytes | None:
        """The child's PNG if it drew exactly this preview, waiting for it if needed; None
        when the finisher must draw in-process (the child failed, or was asked otherwise)."""
        if (kind, shards, caption) != (self.kind, self.shards, self.caption):
            return None
        if self.thread is None:
            return None
        self.thread.join(WAIT_SECONDS)
        return None if self.thread.is_alive() else self.answer

    def close(self) -> None:
        """Stop the child (done, or the build failed) and wait for it."""
        process = self.process
        # killed first: a request still being written to a child that reads nothing would
        # hold the pipe's lock, and closing it would wait forever
        if process.poll() is None:
            with contextlib.suppress(OSError):
                process.kill()
        process.wait()
        if self.thread is not None:
            self.thread.join(5.0)
        if self.thread is None or not self.thread.is_alive():
            for pipe in (process.stdin, process.stdout):
                with contextlib.suppress(OSError, ValueError):
                    if pipe is not None:
                        pipe.close()


def read_answer(stream: IO[bytes]) -> bytes | None:
    """The PNG of a ``png <length>`` answer on ``stream``; None for an error or nonsense."""
    header = stream.readline(64)
    words = header.split()
    if not header.endswith(b"\n") or len(words) != 2 or words[0] != b"png":
        return None
    if not words[1].isdigit() or int(words[1]) > MAX_PNG_BYTES:
        return None
    size = int(words[1])
    data = stream.read(size)
    if len(data) != size or not data.startswith(_PNG_SIGNATURE):
        return None
    return data


@contextlib.contextmanager
def _sigint_blocked() -> Iterator[None]:
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class BadRequest(ValueError):
    """A request the child refuses."""


def parse_request(line: bytes, out: Path) -> tuple[PreviewKind, list[Path], Caption]:
    """The kind, the shard files inside ``out`` and the caption of a request line (untrusted:
    BadRequest saying what is wrong)."""
    if len(line) > MAX_REQUEST_BYTES:
        raise BadRequest(f"more than {MAX_REQUEST_BYTES} bytes")
    try:
        request = json.loads(line)
    except (ValueError, RecursionError) as error:
        raise BadRequest(f"not JSON ({error})") from None
    if not isinstance(request, dict) or set(request) != {"kind", "shards", "caption"}:
        raise BadRequest("not an object of kind, shards and caption")
    kind = request["kind"]
    if kind not in DRAWN_KINDS:
        raise BadRequest(f"kind {kind!r} is not one of {', '.join(DRAWN_KINDS)}")
    names = request["shards"]
    # every shard the preview reads holds at least one sample
    if not isinstance(names, list) or len(names) > default_samples(kind):
        raise BadRequest(f"shards must be a list of at most {default_samples(kind)} paths")
    confined = Confiner(out, "the preview request")
    try:
        shards = [confined(name) for name in names]
    except OutputError as error:
        raise BadRequest(str(error)) from None
    caption = request["caption"]
    if not isinstance(caption, dict) or set(caption) != {"name", "total", "descriptions"}:
        raise BadRequest("caption must be an object of name, total and descriptions")
    name, total, descriptions = caption["name"], caption["total"], caption["descriptions"]
    if not isinstance(name, str):
        raise BadRequest("caption name must be a string")
    if total is not None and (type(total) is not int or total < 0):
        raise BadRequest("caption total must be a count or null")
    if (
        not isinstance(descriptions, dict)
        or len(descriptions) > MAX_CAPTION_COLUMNS
        or not all(isinstance(v, str) for v in descriptions.values())
    ):
        raise BadRequest(
            f"caption descriptions must map at most {MAX_CAPTION_COLUMNS} names to strings"
        )
    return kind, shards, Caption(name, total, descriptions)


def _answer(stream: IO[bytes], header: str, data: bytes = b"") -> None:
    stream.write(header.encode() + b"\n" + data)
    stream.flush()


def _error_line(error: BaseException) -> str:
    text = " ".join(f"{type(error).__name__}: {error}".split())
    return "error " + text[:MAX_ERROR_CHARS]


def _orphan_guard(parent: int) -> None:
    # A child must not outlive a killed build; the parent may have died before prctl.
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        raise SystemExit(0)


def _warm_up() -> None:
    """Import what drawing needs while the parent builds the shards (no figure is drawn: the
    bytes must not depend on what was drawn before)."""
    import matplotlib.backends.backend_agg
    import matplotlib.colors
    import matplotlib.dates
    import matplotlib.figure
    import matplotlib.font_manager
    import matplotlib.lines
    import matplotlib.style
    import polars

    del matplotlib, polars


def main(argv: list[str] | None = None) -> int:
    """The child: ``OUT PARENT_PID``; one request from stdin, one answer on stdout."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what Ctrl-C means
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or not args[1].isdigit():
        print(f"usage: python -m {_MODULE} OUT PARENT_PID", file=sys.stderr)
        return 2
    out, parent = Path(args[0]), int(args[1])
    _orphan_guard(parent)
    _warm_up()
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    line = stdin.readline(MAX_REQUEST_BYTES + 1)
    if not line:
        return 0  # the parent closed stdin: no preview wanted
    try:
        kind, shards, caption = parse_request(line, out)
    except BadRequest as error:
        _answer(stdout, f"error bad request: {error}"[:MAX_ERROR_CHARS])
        return 1
    try:
        data = preview_of_shards(kind, shards, caption)
    except Exception as error:
        _answer(stdout, _error_line(error))
        return 1
    _answer(stdout, f"png {len(data)}", data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
