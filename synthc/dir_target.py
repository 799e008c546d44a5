"""A build into a local directory: the :class:`~synthc.build_target.Target` of ``-o DIR``.

A shard is kept when the build state says it was written from the same task key and its file is
untouched since (same size and mtime, as make and ninja judge). Workers write each shard to a
temporary and rename it (atomic.write_atomic_by); the state is saved only once the shards it
names are fsynced, and each shard directory is fsynced once before the manifest. The state and
manifest are untrusted (outputs/adopt.py, outputs/confine.py); every OSError while the build
holds the directory becomes a BuildError naming the file.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from synthc.atomic import fsync_dirs, fsync_files, temporaries
from synthc.compiler.planning import Plan, ShardTask
from synthc.digest import handle_sha256
from synthc.errors import BuildError, OutputError
from synthc.generators.base import PreviewKind
from synthc.outputs.adopt import adopt_state
from synthc.outputs.confine import confine, file_kind, open_regular
from synthc.outputs.finish import write_file
from synthc.outputs.manifest import MANIFEST_FILE, identity, read_manifest
from synthc.outputs.preview import Caption, preview_of_shards
from synthc.outputs.state import (
    STATE_DIR,
    BuildState,
    DirectoryLock,
    build_lock,
    check_output_dir,
    make_output_dir,
    state_path,
)


def _not_a_file(path: Path) -> str | None:
    """What is at ``path`` when it is neither a regular file nor a symlink (both of which
    unlink removes without touching anything else), else None (also when nothing is there)."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    return None if stat.S_ISLNK(mode) else file_kind(mode)


def _not_a_folder(path: Path) -> str | None:
    """``""`` if ``path`` is a folder (or a symlink to one: confined with the plan), what it
    is if not (``"a file"``), None if nothing is there."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return None
    if stat.S_ISDIR(mode):
        return ""
    return file_kind(mode) or "a file"


def _missing(out: Path) -> list[Path]:
    """``out`` and its parents that do not exist yet, deepest first (what the build makes)."""
    missing = []
    for folder in (out, *out.parents):
        if os.path.lexists(folder):
            break
        missing.append(folder)
    return missing


def _holds_files(folder: Path, skip: str) -> bool:
    """Whether ``folder`` holds anything but folders (its entry ``skip`` aside)."""
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name == skip:
                continue
            if not entry.is_dir(follow_symlinks=False):
                return True
            if _holds_files(Path(entry.path), skip=""):
                return True
    return False


def _subfolders(folder: Path, skip: str) -> list[Path]:
    """The folders under ``folder`` (its entry ``skip`` aside), deepest first."""
    found: list[Path] = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name != skip and entry.is_dir(follow_symlinks=False):
                found += [*_subfolders(Path(entry.path), skip=""), Path(entry.path)]
    return found


#: what a build says of something in its way that it did not write
_YOURS = (
    "synthc deletes only files it wrote, so remove it yourself and rebuild (the dataset is "
    "unchanged)"
)


class DirectoryTarget:
    """The output directory ``out`` (see the module docstring)."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.location: Path | str = out
        self.unsynced: list[Path] = []  # shards recorded since the last save
        self.lock: DirectoryLock | None = None  # while a session holds the directory

    def check(self) -> None:
        check_output_dir(self.out)

    @contextlib.contextmanager
    def session(self, log: Callable[[str], None]) -> Iterator[None]:
        created = _missing(self.out)
        make_output_dir(self.out)
        try:
            with build_lock(self.out) as self.lock:
                try:
                    yield
                except OSError:
                    self._check_not_removed()
                    raise
        except OSError as error:
            where = error.filename if error.filename is not None else self.out
            raise BuildError(f"{where}: {error.strerror or error}") from None
        except BaseException:
            # a failed build leaves no folder it made and nothing was put in (the build
            # removed its state when it wrote nothing: building.py)
            for folder in created:
                try:
                    folder.rmdir()
                except OSError:
                    break
            raise
        finally:
            self.lock = None

    def adopt(
        self, will_write: Iterable[str], force: bool, log: Callable[[str], None], dataset: str
    ) -> tuple[BuildState, bool]:
        return adopt_state(self.out, will_write, force, log, dataset)

    def save(self, state: BuildState) -> None:
        # a saved state never names a shard whose data a crash could still lose
        fsync_files(self.unsynced)
        self.unsynced.clear()
        try:
            state.save(self.out)
        except BuildError:
            self._check_not_removed()
            raise

    def abort_io(self) -> None:
        pass  # a local file system's calls end by themselves

    def unmark(self) -> None:
        """Remove the state a failed first build saved, unless a file was put in the output
        meanwhile (a Dask worker may have put a shard in place before its result came back)."""
        with contextlib.suppress(OSError):
            if not _holds_files(self.out, skip=STATE_DIR):
                state_path(self.out).unlink()
                for folder in _subfolders(self.out, skip=STATE_DIR):  # split folders made
                    folder.rmdir()

    def current_shard(self, state: BuildState, path: str, key: str) -> dict[str, Any] | None:
        return state.current_shard(self.out, path, key)

    def replaced_shards(self, state: BuildState, kept: dict[str, dict[str, Any]]) -> set[str]:
        # only files touched or moved since they were hashed (a shard this machine wrote and
        # nothing changed is not read again); one after another: sha256 runs at about 1 GB/s
        # of one core (200 shards of 274 MB in all: 0.26 s CPU, page cache warm)
        replaced = set()
        for path, entry in kept.items():
            if state.hashed_since(self.out, path):
                continue
            try:
                with open_regular(self.out / path, entry["bytes"]) as handle:
                    same = handle_sha256(handle) == entry["sha256"]
            except (OSError, OutputError):  # gone, or no longer a file of its size
                same = False
            if same:
                state.saw(self.out, path)
            else:
                replaced.add(path)
        return replaced

    def current_manifest(self, state: BuildState, wanted: dict[str, Any]) -> dict[str, Any] | None:
        try:
            existing = read_manifest(self.out)
        except OutputError:
            return None
        if identity(existing) != identity(wanted):
            return None
        return existing if all((self.out / name).is_file() for name in state.files) else None

    def check_obstacles(self, names: Iterable[str]) -> None:
        # A folder (or FIFO, socket, device) where a file goes, or a file where a folder goes,
        # failed the write only after the manifest was retracted: the output lost its manifest
        # and every rerun failed the same way. Named now, with the dataset unchanged.
        folders: dict[Path, None] = {}
        for name in names:
            path = self.out / name
            for parent in reversed(path.parents[: len(path.parents) - len(self.out.parents) - 1]):
                if parent in folders:
                    continue
                found = _not_a_folder(parent)
                if found is None:
                    break  # created when written
                if found:
                    raise BuildError(
                        f"{parent}: is {found}, where this build writes into a folder of that "
                        f"name ({name}); {_YOURS}"
                    )
                folders[parent] = None
            what = _not_a_file(path)
            if what is not None:
                raise BuildError(f"{path}: is {what}, where this build writes a file; {_YOURS}")

    def retract_manifest(self, state: BuildState) -> None:
        if MANIFEST_FILE in state.files:
            (self.out / MANIFEST_FILE).unlink(missing_ok=True)
            del state.files[MANIFEST_FILE]
            self.save(state)

    def discard_partials(self, plan: Plan, state: BuildState) -> None:
        # Called before the manifest is retracted: a temporary synthc cannot have written (a
        # directory, a FIFO) stops the build while the dataset is still whole, named, not
        # deleted, and the same at every rerun (--force cannot make it synthc's).
        names = {t.path for t in plan.tasks} | set(state.shards) | set(state.files)
        found = temporaries(self.out / name for name in names)
        for partial in found:
            what = _not_a_file(partial)
            if what is not None:
                raise BuildError(
                    f"{partial}: is {what}, not a temporary synthc wrote; synthc deletes only "
                    "files it wrote, so remove it yourself and rebuild (the dataset is unchanged)"
                )
        for partial in found:
            partial.unlink(missing_ok=True)

    def remove_owned(self, state: BuildState, path: str) -> None:
        # Confined when the state was loaded, and again now: a symlink may have appeared since.
        target = confine(self.out, path, str(state_path(self.out)))
        if _not_a_file(target) is None:  # a folder put in its place is no file synthc wrote
            target.unlink(missing_ok=True)
        del state.shards[path]
        self.save(state)
        parent = target.parent
        if parent != self.out and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()

    def discard_unrecorded(self, state: BuildState) -> int:
        removed = 0
        for path in state.unrecorded():
            # confined when the state was loaded, and again now: a symlink may have appeared
            target = confine(self.out, path, str(state_path(self.out)))
            if _not_a_file(target) is None and os.path.lexists(target):
                target.unlink(missing_ok=True)
                removed += 1
        state.building = []
        return removed

    def worker_location(self, tasks: list[ShardTask]) -> str:
        # every task path was confined when the plan was made; an absolute path, as remote
        # (Dask) workers do not share our working directory
        return str(self.out.resolve())

    def record_shard(self, state: BuildState, record: dict[str, Any]) -> None:
        try:
            state.record_shard(self.out, record)
        except FileNotFoundError:  # written by a worker that sees another file system
            self._check_not_removed()
            raise BuildError(
                f"{self.out / record['path']}: a worker wrote this shard, but it is not there "
                "on this machine: the workers of a Dask cluster must see the output directory "
                "at the same path (a shared file system), or write to an object store "
                "(-o s3://...)"
            ) from None
        self.unsynced.append(self.out / record["path"])

    def _check_not_removed(self) -> None:
        """BuildError if the output directory this build locked was removed while it ran (a
        file it wrote, or the folder it writes into, is then missing for that reason)."""
        if self.lock is not None and not self.lock.held():
            raise BuildError(
                f"{self.out}: the output directory (or its .synthc folder) was removed while "
                "the build wrote it; rerun the build to write the dataset again"
            )

    def settle(self, plan: Plan, state: BuildState) -> None:
        # what a lost Dask worker was writing when it died: its rerun wrote its own
        self.discard_partials(plan, state)
        # the shards' renames, made durable before the manifest that names them
        fsync_dirs(self.out / task.path for task in plan.tasks)

    def build_facts(self) -> dict[str, Any]:
        return {}

    def write(self, name: str, data: bytes) -> None:
        write_file(self.out, name, data)

    def confirm_lock(self) -> None:
        if self.lock is None:
            raise BuildError(f"{self.out}: this build holds no lock on it")
        self.lock.confirm()

    def draw(self, kind: PreviewKind, shards: list[str], caption: Caption) -> bytes:
        return preview_of_shards(kind, [self.out / path for path in shards], caption, names=shards)
