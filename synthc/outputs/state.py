"""The build state: which files in an output directory synthc wrote, and from which task keys.

It lives in ``<out>/.synthc/state.json`` and is rewritten atomically after every finished shard,
so a killed build resumes with every finished shard kept. synthc deletes only files this state
names (and the ``.partial`` temporaries of those and of planned files).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthc.errors import UsageError
from synthc.outputs.atomic import write_atomic

STATE_DIR = ".synthc"
STATE_FILE = "state.json"
STATE_FORMAT = "synthc-state/1"


@dataclass
class BuildState:
    """Files synthc owns in one output directory."""

    shards: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, out: Path) -> BuildState | None:
        """The state of ``out``, or None if synthc never built there."""
        path = out / STATE_DIR / STATE_FILE
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            raise UsageError(
                f"{path}: unreadable build state ({error}); remove {out} to rebuild"
            ) from error
        if data.get("format") != STATE_FORMAT:
            raise UsageError(f"{path}: unknown build state format {data.get('format')!r}")
        return cls(shards=data["shards"], files=data["files"])

    def save(self, out: Path) -> None:
        data = {"format": STATE_FORMAT, "shards": self.shards, "files": self.files}
        write_atomic(out / STATE_DIR / STATE_FILE, json.dumps(data, indent=1).encode())

    def record_shard(self, out: Path, record: dict[str, Any]) -> None:
        """Remember a finished shard with the stat that says it is still ours and unchanged."""
        stat = (out / record["path"]).stat()
        self.shards[record["path"]] = {**record, "mtime_ns": stat.st_mtime_ns}

    def current_shard(self, out: Path, path: str, key: str) -> dict[str, Any] | None:
        """The record of ``path`` if it was built from ``key`` and its file is untouched since."""
        entry = self.shards.get(path)
        if entry is None or entry["task_key"] != key:
            return None
        try:
            stat = (out / path).stat()
        except FileNotFoundError:
            return None
        if stat.st_size != entry["bytes"] or stat.st_mtime_ns != entry["mtime_ns"]:
            return None
        return {k: v for k, v in entry.items() if k != "mtime_ns"}


def is_synthc_output(out: Path) -> bool:
    """True if ``out`` holds a synthc build state."""
    return (out / STATE_DIR / STATE_FILE).exists()


def check_output_dir(out: Path) -> None:
    """Refuse a non-empty directory that synthc did not make (its files are not ours to touch)."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out}: exists and is not a directory")
    if out.is_dir() and any(out.iterdir()) and not is_synthc_output(out):
        raise UsageError(
            f"{out}: directory is not empty and is not a synthc output; "
            "choose another directory with -o"
        )


@contextlib.contextmanager
def build_lock(out: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``out`` so two builds never write one dataset at once."""
    (out / STATE_DIR).mkdir(parents=True, exist_ok=True)
    fd = os.open(out / STATE_DIR / "lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UsageError(f"{out}: another synthc build is writing this directory") from None
        yield
    finally:
        os.close(fd)
