"""preview.png drawn by a child process started early: the same bytes as drawn in-process, the
request sent as soon as the shards it reads are written, a fallback to drawing in-process
when the child fails, and no child left behind by a failed or killed build."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import spec_text

from synthc import api
from synthc.building import Progress
from synthc.errors import BuildError
from synthc.executors.base import TaskFailed
from synthc.executors.local import LocalExecutor
from synthc.outputs import preview_process
from synthc.outputs.caption import Caption
from synthc.outputs.preview import preview_of_shards
from synthc.outputs.preview_process import (
    DRAWN_KINDS,
    BadRequest,
    PreviewProcess,
    parse_request,
)

POINTS = "kind: manifold\n  shape: moons\n  noise: 0.1"
TABLE = (
    "kind: tabular\n  columns:\n"
    "    age: {dist: normal, mean: 40, std: 12, clip: [18, 90]}\n"
    "    region: {dist: categorical, values: [north, south]}"
)
MODULE = "synthc.outputs.preview_process"


class Events(Progress):
    """Records each finished shard, in order, beside the preview requests."""

    def __init__(self, events: list[str]) -> None:
        self.events = events

    def advance(self, record):
        self.events.append(f"shard {record['path']}")


@pytest.fixture(autouse=True)
def child_even_with_matplotlib_loaded(monkeypatch):
    """A child for every matplotlib preview, as in a fresh `synthc build` process, although
    this test process has imported matplotlib (drawing earlier previews; worth_a_child)."""
    monkeypatch.setattr(preview_process, "worth_a_child", lambda kind: kind in DRAWN_KINDS)


@pytest.fixture
def watched(monkeypatch):
    """What the preview processes of builds in this test did: 'start', 'request', and the
    answer the finisher got ('png' or 'none'), in order with the shards."""
    events: list[str] = []
    started: list[PreviewProcess] = []
    start, send, drawn = PreviewProcess.start.__func__, PreviewProcess._send, PreviewProcess.drawn

    def watch_start(cls, *args, **kwargs):
        events.append("start")
        drawer = start(cls, *args, **kwargs)
        if drawer is not None:
            started.append(drawer)
        return drawer

    def watch_send(self):
        if self.thread is None:
            events.append("request")
        send(self)

    def watch_drawn(self, *args):
        png = drawn(self, *args)
        events.append("png" if png is not None else "none")
        return png

    monkeypatch.setattr(PreviewProcess, "start", classmethod(watch_start))
    monkeypatch.setattr(PreviewProcess, "_send", watch_send)
    monkeypatch.setattr(PreviewProcess, "drawn", watch_drawn)
    return events, started


def without_child(monkeypatch, command: list[str]) -> None:
    monkeypatch.setattr(preview_process, "child_command", lambda out: command)


@pytest.mark.parametrize("generator", [POINTS, TABLE], ids=["points", "table"])
def test_the_child_draws_the_bytes_drawn_in_process_and_is_asked_before_the_last_shard(
    write_spec, tmp_path, monkeypatch, watched, generator
):
    events, started = watched
    # train: shards of 2,500, 2,500, 2,500 and 1,500 samples; the preview reads the first two
    spec = write_spec(spec_text(samples=10_000, shard_size=2500, generator=generator))
    out = tmp_path / "child"
    api.build(spec, out, executor=LocalExecutor(1), progress=Events(events))
    shards = [e for e in events if e.startswith("shard")]
    assert len(shards) == 5
    assert events[0] == "start" and events[-1] == "png"
    # sent once the two shards it reads were written (as the second is recorded, before the
    # progress hears of it), long before the last shard ran
    assert events.index(shards[0]) < events.index("request") < events.index(shards[1])
    assert events.index("request") < events.index(shards[-1])
    assert started[0].process.returncode is not None  # stopped when the build finished

    without_child(monkeypatch, [str(tmp_path / "no-such-python")])
    inline = tmp_path / "inline"
    api.build(spec, inline, workers=1)
    assert (out / "preview.png").read_bytes() == (inline / "preview.png").read_bytes()
    assert events[-1] == "start"  # it could not start: drawn in-process

    events.clear()
    api.build(spec, out, workers=1)  # nothing to do: no child
    assert events == []


def test_related_tables_ask_once_the_root_tables_shards_are_written(tmp_path, monkeypatch, watched):
    events, _ = watched
    spec = Path(__file__).parents[1] / "specs" / "customers_orders.yaml"
    out = tmp_path / "child"
    api.build(
        spec, out, variables={"samples": 600}, executor=LocalExecutor(1), progress=Events(events)
    )
    assert [e for e in events if not e.startswith("shard")] == ["start", "request", "png"]
    # plan order is split by split, each split's tables root first: the root table's last
    # shard (customers/test) completes the preview's shards, before the test split's others
    assert events.index("shard customers/test/test-00000.parquet") == events.index("request") + 1
    assert events.index("request") < events.index("shard orders/test/test-00000.parquet")
    without_child(monkeypatch, ["/nonexistent/python3"])
    inline = tmp_path / "inline"
    api.build(spec, inline, variables={"samples": 600}, workers=1)
    assert (out / "preview.png").read_bytes() == (inline / "preview.png").read_bytes()


def test_a_rebuild_that_keeps_every_shard_asks_at_once(write_spec, tmp_path, watched):
    events, _ = watched
    spec = write_spec(spec_text(samples=1000, shard_size=300))
    out = tmp_path / "out"
    api.build(spec, out, workers=1)
    drawn = (out / "preview.png").read_bytes()
    (out / "manifest.json").unlink()
    events.clear()
    api.build(spec, out, workers=1)
    assert events == ["start", "request", "png"]
    assert (out / "preview.png").read_bytes() == drawn


FAILING_CHILDREN = {
    "cannot-start": ["/nonexistent/python3"],
    "dies": [sys.executable, "-c", "import sys; sys.stdin.readline(); sys.exit(3)"],
    "nonsense": [sys.executable, "-c", "import sys; sys.stdin.readline(); print('hello')"],
    "not-png": [sys.executable, "-c", "import sys; sys.stdin.readline(); print('png 3\\nabc')"],
    "short": [
        sys.executable,
        "-c",
        "import sys; sys.stdin.readline(); sys.stdout.buffer.write(b'png 99\\n\\x89PNG')",
    ],
    "error": [sys.executable, "-c", "import sys; sys.stdin.readline(); print('error boom')"],
}


@pytest.mark.parametrize("command", FAILING_CHILDREN.values(), ids=FAILING_CHILDREN)
def test_a_failing_child_leaves_the_preview_to_the_build(
    write_spec, tmp_path, monkeypatch, watched, command
):
    events, started = watched
    without_child(monkeypatch, command)
    spec = write_spec(spec_text(samples=600, shard_size=300))
    out = tmp_path / "out"
    api.build(spec, out, workers=1)
    assert events[-1] == ("start" if command == FAILING_CHILDREN["cannot-start"] else "none")
    manifest = json.loads((out / "manifest.json").read_text())
    shards = [out / s["path"] for split in manifest["splits"].values() for s in split["shards"]]
    caption = Caption.of("tiny", 600, manifest["schema"]["columns"])
    assert (out / "preview.png").read_bytes() == preview_of_shards("points", shards, caption)
    assert all(drawer.process.returncode is not None for drawer in started)


def test_a_drawing_error_is_raised_as_it_is_without_the_child(
    write_spec, tmp_path, monkeypatch, watched
):
    events, _ = watched
    spec = write_spec(spec_text(samples=600, shard_size=300))
    out = tmp_path / "out"
    api.build(spec, out, workers=1)
    # a kept shard spoilt behind synthc's back (same size and mtime): reading it fails
    shard = out / "train" / "train-00000.parquet"
    info = shard.stat()
    data = bytearray(shard.read_bytes())
    data[-4:] = b"XXXX"
    shard.write_bytes(bytes(data))
    os.utime(shard, ns=(info.st_atime_ns, info.st_mtime_ns))
    (out / "manifest.json").unlink()

    events.clear()
    with pytest.raises(Exception) as drawn_by_child:
        api.build(spec, out, workers=1)
    assert events == ["start", "request", "none"]  # the child said it failed
    without_child(monkeypatch, ["/nonexistent/python3"])
    with pytest.raises(Exception) as drawn_here:
        api.build(spec, out, workers=1)
    assert type(drawn_by_child.value) is type(drawn_here.value)
    assert str(drawn_by_child.value) == str(drawn_here.value)


class FailsSecondShard(LocalExecutor):
    def run(self, fn, items, *args, **kwargs):
        for index, result in super().run(fn, items, *args, **kwargs):
            if index == 1:
                raise TaskFailed(1, RuntimeError("disk on fire"))
            yield index, result


def test_a_failed_build_stops_the_child(write_spec, tmp_path, watched):
    _, started = watched
    spec = write_spec(spec_text(samples=1000, shard_size=300))
    with pytest.raises(BuildError, match="disk on fire"):
        api.build(spec, tmp_path / "out", executor=FailsSecondShard(1))
    (drawer,) = started
    assert drawer.process.returncode is not None


def test_the_child_ignores_sigint(tmp_path):
    spec_dir = tmp_path / "ds"
    api.build(write_text(tmp_path / "spec.yaml", spec_text()), spec_dir, workers=1)
    shards = ["train/train-00000.parquet", "train/train-00001.parquet"]
    caption = Caption("sigint", 800)
    drawer = PreviewProcess.start(spec_dir, "points", shards, caption)
    assert drawer is not None
    try:
        os.kill(drawer.process.pid, signal.SIGINT)  # a Ctrl-C reaches the process group
        for shard in shards:
            drawer.written(shard)
        png = drawer.drawn("points", shards, caption)
    finally:
        drawer.close()
    assert png == preview_of_shards("points", [spec_dir / s for s in shards], caption)


def write_text(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_the_child_refuses_a_request_reaching_outside_its_directory(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "secret.parquet").write_bytes(b"PAR1")
    process = subprocess.run(
        [sys.executable, "-m", MODULE, str(tmp_path / "out"), str(os.getpid())],
        input=b'{"kind": "points", "shards": ["../secret.parquet"], '
        b'"caption": {"name": "", "total": null, "descriptions": {}}}\n',
        capture_output=True,
        timeout=120,
    )
    assert process.returncode == 1
    assert process.stdout.startswith(b"error bad request: the preview request: entry ")
    assert process.stdout.count(b"\n") == 1


@pytest.mark.parametrize(
    ("line", "why"),
    [
        (b"[1, 2", "not JSON"),
        (b'{"kind": "points"}', "not an object of kind, shards and caption"),
        (b'{"kind": "images", "shards": [], "caption": {}}', "kind 'images'"),
        (b'{"kind": "table", "shards": "a", "caption": {}}', "shards must be a list"),
        (b'{"kind": "table", "shards": ["/etc/passwd"], "caption": {}}', "an absolute path"),
        (b'{"kind": "table", "shards": ["a/../../b"], "caption": {}}', "'..' part"),
        (b'{"kind": "table", "shards": [], "caption": {"name": 1}}', "caption must be"),
        (
            b'{"kind": "table", "shards": [], '
            b'"caption": {"name": "", "total": -1, "descriptions": {}}}',
            "caption total",
        ),
        (
            b'{"kind": "table", "shards": [], '
            b'"caption": {"name": "", "total": 1, "descriptions": {"a": 1}}}',
            "caption descriptions",
        ),
    ],
)
def test_requests_are_untrusted(tmp_path, line, why):
    with pytest.raises(BadRequest, match=why.replace("(", r"\(")):
        parse_request(line, tmp_path)


def test_a_request_through_a_symlink_out_of_the_directory_is_refused(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "train").symlink_to(tmp_path)
    line = b'{"kind": "table", "shards": ["train/x.parquet"], "caption": {}}'
    with pytest.raises(BadRequest, match="symlink"):
        parse_request(line, out)
    with pytest.raises(BadRequest, match="more than"):
        parse_request(b" " * (preview_process.MAX_REQUEST_BYTES + 1), out)


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def is_preview_child(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return state != "Z" and MODULE.encode() in command


def test_a_killed_build_leaves_no_preview_child(write_spec, tmp_path):
    # big enough to be still building when it is killed, a moment after its child started
    spec = write_spec(spec_text(samples=50_000_000, shard_size=1_000_000))
    build = subprocess.Popen(
        [sys.executable, "-m", "synthc", "build", str(spec), "-o", str(tmp_path / "out")]
        + ["--workers", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        child = None
        for _ in range(1200):  # up to about 2 minutes on a loaded machine
            child = next((p for p in children(build.pid) if is_preview_child(p)), None)
            if child is not None or build.poll() is not None:
                break
            time.sleep(0.1)
        assert child is not None, "the build started no preview child"
        build.kill()
        build.wait()
        for _ in range(1200):
            if not is_preview_child(child):
                break
            time.sleep(0.1)
        assert not is_preview_child(child)
    finally:
        if build.poll() is None:
            build.kill()
            build.wait()


def test_the_child_exits_at_the_end_of_its_stdin(tmp_path):
    """Without a request (the parent closed the pipe, or died), the child exits by itself."""
    drawer = PreviewProcess.start(tmp_path, "table", ["a.parquet"], Caption())
    assert drawer is not None
    assert drawer.process.stdin is not None
    drawer.process.stdin.close()
    assert drawer.process.wait(timeout=300) == 0
    drawer.close()


def test_a_child_is_worth_it_only_before_this_process_has_matplotlib(monkeypatch):
    monkeypatch.undo()  # the real rule, not the fixture's
    import matplotlib  # noqa: F401 - what drawing a preview in this process leaves loaded

    assert not preview_process.worth_a_child("points")
    monkeypatch.delitem(sys.modules, "matplotlib")
    assert preview_process.worth_a_child("points") and preview_process.worth_a_child("table")
    assert not preview_process.worth_a_child("images")  # Pillow only: nothing to hide
