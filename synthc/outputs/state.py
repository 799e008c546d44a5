"""The build state: which files in an output directory synthc wrote, and from which task keys.

It lives in ``<out>/.synthc/state.json`` and is rewritten atomically as shards finish
(synthc.checkpoint: after nearly every shard while the state is small, less often as it grows),
so a killed build resumes with the shards it recorded kept. synthc deletes only files this state
names (and the ``.partial`` temporaries of those and of planned files). The state is untrusted
input like everything in an output directory: its size, shape and every path in it are checked
before synthc acts on it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from stat import S_ISDIR, S_ISLNK
from typing import Any

from synthc import limits
from synthc.atomic import write_atomic
from synthc.errors import BuildError, OutputError, UsageError
from synthc.file_kinds import file_kind
from synthc.json_bounds import loads_bounded
from synthc.outputs.confine import Confiner, read_bounded
from synthc.outputs.records import counts_map

STATE_DIR = ".synthc"
STATE_FILE = "state.json"
STATE_FORMAT = "synthc-state/1"

#: where an output directory never belongs (writes there reach the kernel, not a disk), but
#: for the shared-memory file systems under them, ordinary tmpfs mounts people build into
_KERNEL_FILE_SYSTEMS = (Path("/proc"), Path("/sys"), Path("/dev"))
_SHARED_MEMORY = (Path("/dev/shm"), Path("/run/shm"))

#: keys of a shard entry in the state, with their types
SHARD_KEYS: dict[str, type | tuple[type, ...]] = {
    "path": str,
    "split": str,
    "shard": int,
    "first_sample": int,
    "samples": int,
    "bytes": int,
    "sha256": str,
    "task_key": str,
    "mtime_ns": int,
}
#: keys of a shard entry in an object store's state: a directory's, with the object's stamp
#: (size and ETag) in place of the file's mtime
STORE_SHARD_KEYS: dict[str, type | tuple[type, ...]] = {
    **{key: kind for key, kind in SHARD_KEYS.items() if key != "mtime_ns"},
    "stamp": str,
}


#: shard entry counts that must be non-negative and below this bound: a file's size, a sample
#: index and a count all fit a signed 64-bit integer (numpy's and Parquet's), so a bigger
#: value can only be planted
_COUNTS = ("shard", "first_sample", "samples", "bytes")
_COUNT_BOUND = 2**63
_SHA256 = re.compile(r"[0-9a-f]{64}")
_SHARD_SUFFIXES = (".parquet", ".tar")


class BadState(OutputError):
    """``.synthc/state.json`` cannot be trusted: unreadable, too big, wrong shape or bad entry."""


class CopiedState(BadState):
    """A well-formed state of the other kind of output (a directory's on a store, a store's in
    a directory): the dataset was copied, and its entries say nothing of the copies. Treated
    as a lost state (rebuilt from a verifying manifest), not as a corrupt one."""


def state_path(out: Path) -> Path:
    """Where the build state of ``out`` lives."""
    return out / STATE_DIR / STATE_FILE


@dataclass
class BuildState:
    """Files synthc owns in one output directory."""

    shards: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    #: the spec ``name`` built here (None in states written before synthc recorded it)
    dataset: str | None = None
    #: the shards a build handed to its workers and had not seen all of back (saved before
    #: they start): a build killed meanwhile leaves files at some it never recorded, which
    #: the next build deletes (those it does not record itself are not synthc's otherwise)
    building: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, out: Path) -> BuildState | None:
        """The state of ``out``, or None if there is none; BadState if it cannot be trusted."""
        path = state_path(out)
        _refuse_symlinks(out)
        try:
            text = read_bounded(path, limits.MAX_STATE_BYTES, "MAX_STATE_BYTES", BadState)
        except FileNotFoundError:
            return None
        except OSError as error:
            raise BadState(f"{path}: unreadable build state ({error.strerror})") from None
        data = loads_bounded(text, str(path), BadState, "build state")
        return cls.from_json(data, out, str(path))

    @classmethod
    def from_json(
        cls,
        data: Any,
        out: Path,
        source: str,
        confiner: Callable[[object], object] | None = None,
        shard_keys: dict[str, type | tuple[type, ...]] | None = None,
    ) -> BuildState:
        """Check the shape of a loaded state and confine every path in it to ``out`` (or by
        ``confiner``; ``shard_keys``: the keys of a shard entry, for a store's state)."""
        if not isinstance(data, dict):
            raise BadState(f"{source}: build state is a {type(data).__name__}, not an object")
        if data.get("format") != STATE_FORMAT:
            raise BadState(f"{source}: unknown build state format {data.get('format')!r}")
        shards, files = data.get("shards"), data.get("files")
        if not isinstance(shards, dict) or not isinstance(files, dict):
            raise BadState(f"{source}: build state needs objects 'shards' and 'files'")
        confiner = confiner or Confiner(out, source)
        for name in shards:
            _confine(confiner, name, source)
        _check_shard_entries(shards, source, shard_keys or SHARD_KEYS)
        for name, digest in files.items():
            _confine(confiner, name, source)
            if not isinstance(digest, str):
                raise BadState(f"{source}: files.{name}: sha256 must be a string")
        dataset = data.get("dataset")
        if dataset is not None and not isinstance(dataset, str):
            raise BadState(f"{source}: dataset must be a string")
        building = data.get("building", [])
        if not isinstance(building, list):
            raise BadState(f"{source}: building must be a list of shard paths")
        for name in building:
            _confine(confiner, name, source)
            _check_shard_path(name, f"{source}: building")
        return cls(shards=shards, files=files, dataset=dataset, building=building)

    def to_json(self) -> dict[str, Any]:
        """The state as saved (``building`` only while there are such shards)."""
        data: dict[str, Any] = {"format": STATE_FORMAT}
        if self.dataset is not None:
            data["dataset"] = self.dataset
        data.update(shards=self.shards, files=self.files)
        if self.building:
            data["building"] = self.building
        return data

    def unrecorded(self) -> list[str]:
        """The paths of :attr:`building` that :attr:`shards` does not name."""
        return [name for name in self.building if name not in self.shards]

    def save(self, out: Path) -> None:
        """Write the state atomically; BuildError naming the file if the disk refuses."""
        data = self.to_json()
        path = state_path(out)
        try:
            # compact: the C encoder (indent selects the pure-Python one, which holds the GIL
            # for the whole state after every shard and kept two workers from scaling)
            write_atomic(path, json.dumps(data, separators=(",", ":"), allow_nan=False).encode())
        except OSError as error:
            raise BuildError(
                f"{path}: cannot write the build state: {error.strerror or error}"
            ) from None

    def record_shard(self, out: Path, record: dict[str, Any]) -> None:
        """Remember a finished shard with the stat that says it is still ours and unchanged:
        its mtime, and (``seen``) the change time and inode its sha256 was known at."""
        stat = (out / record["path"]).stat()
        self.shards[record["path"]] = {**record, "mtime_ns": stat.st_mtime_ns, "seen": seen(stat)}

    def hashed_since(self, out: Path, path: str) -> bool:
        """Whether ``path``'s file is the one its entry's sha256 was known for: its change time
        and inode are the ``seen`` ones. The kernel sets the change time at every change of a
        file, and nothing sets it back (``cp -p``, ``rsync -a`` and ``touch -r`` keep an mtime,
        not it); an output unpacked or copied elsewhere has other inodes, so a state that
        travelled with it vouches for nothing until its shards are hashed there."""
        entry = self.shards.get(path)
        try:
            stat = (out / path).stat()
        except OSError:
            return False
        return entry is not None and entry.get("seen") == seen(stat)

    def saw(self, out: Path, path: str) -> None:
        """Note that ``path``'s file, as it is now, was hashed and holds its entry's bytes."""
        self.shards[path]["seen"] = seen((out / path).stat())

    def current_shard(self, out: Path, path: str, key: str) -> dict[str, Any] | None:
        """The record of ``path`` if it was built from ``key`` and its file is untouched since."""
        entry = self.shards.get(path)
        if entry is None or entry["task_key"] != key:
            return None
        try:
            stat = (out / path).stat()
        except (FileNotFoundError, NotADirectoryError):  # a file in place of its folder
            return None
        if stat.st_size != entry["bytes"] or stat.st_mtime_ns != entry["mtime_ns"]:
            return None
        return {k: v for k, v in entry.items() if k not in ("mtime_ns", "seen")}


def seen(stat: os.stat_result) -> list[int]:
    """A file's change time and inode: what says it has not been touched since it was hashed."""
    return [stat.st_ctime_ns, stat.st_ino]


def _confine(confiner: Callable[[object], object], name: object, source: str) -> None:
    try:
        confiner(name)
    except OutputError as error:
        raise BadState(str(error)) from None
    # synthc's own folder (this state, the lock) is no shard or file a build may delete
    parts = PurePosixPath(str(name).replace("\\", "/")).parts
    if parts and parts[0].lower() == STATE_DIR:
        raise BadState(
            f"{source}: {name!r} is refused: {STATE_DIR}/ holds synthc's own state and lock, "
            "no shard or file"
        )


def _check_shard_entries(
    shards: dict[str, Any], source: str, keys: dict[str, type | tuple[type, ...]]
) -> None:
    """BadState unless each entry has ``keys``; CopiedState if each has the other kind of
    output's instead."""
    try:
        for name, entry in shards.items():
            _check_shard_entry(name, entry, source, keys)
    except BadState:
        other = STORE_SHARD_KEYS if keys is SHARD_KEYS else SHARD_KEYS
        try:
            for name, entry in shards.items():
                _check_shard_entry(name, entry, source, other)
        except BadState:
            pass
        else:
            kind = "an object store's" if other is STORE_SHARD_KEYS else "a local directory's"
            raise CopiedState(f"{source}: {kind} build state (the dataset was copied)") from None
        raise


def _check_shard_entry(
    name: str, entry: Any, source: str, keys: dict[str, type | tuple[type, ...]]
) -> None:
    where = f"{source}: shards.{name}"
    if not isinstance(entry, dict):
        raise BadState(f"{where}: must be an object, not {type(entry).__name__}")
    for key, kind in keys.items():
        value = entry.get(key)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise BadState(f"{where}.{key}: must be {getattr(kind, '__name__', kind)}")
    if entry["path"] != name:
        raise BadState(f"{where}.path: {entry['path']!r} differs from its key")
    _check_shard_path(name, f"{where}.path")
    # the values go into the manifest of a build that keeps the shard: checked, not trusted
    if not _SHA256.fullmatch(entry["sha256"]):
        raise BadState(f"{where}.sha256: must be 64 lower-case hex digits")
    for key in _COUNTS:
        if not 0 <= entry[key] < _COUNT_BOUND:
            raise BadState(f"{where}.{key}: must be at least 0 and below 2**63")
    if not counts_map(entry.get("stats", {})):
        raise BadState(f"{where}.stats: must map names to counts from 0 below 2**63")


def _refuse_symlinks(out: Path) -> None:
    # A symlinked .synthc or state.json would make synthc read or write outside the output.
    for path in (out / STATE_DIR, state_path(out)):
        if path.is_symlink():
            raise BadState(f"{path}: is a symlink; synthc keeps its state in a plain file")


def is_synthc_output(out: Path) -> bool:
    """True if ``out`` holds a synthc build state."""
    return state_path(out).exists()


def check_output_dir(out: Path) -> None:
    """Refuse an output path synthc cannot use: not a directory, or under something that is not.

    Whether a non-empty directory may be used is decided later (see building.adopt_state).
    """
    try:
        resolved = out.resolve()
    except (OSError, RuntimeError) as error:  # a symlink loop
        raise UsageError(f"{out}: cannot be resolved ({error}); choose another -o") from None
    tmpfs = any(resolved == shm or shm in resolved.parents for shm in _SHARED_MEMORY)
    for system in _KERNEL_FILE_SYSTEMS:
        if not tmpfs and (resolved == system or system in resolved.parents):
            raise UsageError(f"{out}: is under {system}, a kernel file system; choose another -o")
    if out.is_symlink() and not out.exists():
        raise UsageError(f"{out}: is a symlink to nothing; choose another directory with -o")
    if out.exists() and not out.is_dir():
        raise UsageError(
            f"{out}: exists and is not a directory; -o takes the output directory (or leave "
            "it out: outputs/<name>)"
        )
    _check_state_folder(out / STATE_DIR)
    for parent in out.absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                raise UsageError(
                    f"{out}: {parent} is not a directory; -o takes the output directory (or "
                    "leave it out: outputs/<name>)"
                )
            break


def _check_state_folder(folder: Path) -> None:
    """OutputError when ``<out>/.synthc`` is there but is no folder (a file, a FIFO): synthc
    could neither read a state from it nor lock it, and --force cannot make it synthc's."""
    try:
        mode = os.stat(folder, follow_symlinks=False).st_mode
    except OSError:
        return  # absent (or unreadable: said where it is read)
    if S_ISDIR(mode) or S_ISLNK(mode):  # a symlink is refused where it is read
        return
    kind = file_kind(mode) or "a file"
    raise OutputError(
        f"{folder}: is {kind}, where synthc keeps its build state in a folder; synthc changed "
        "nothing (nor would --force): removing or renaming it is yours to decide, or choose "
        "another directory with -o"
    )


def make_output_dir(out: Path) -> None:
    """Create ``out`` (and its parents) unless it exists; UsageError naming why not."""
    if out.is_dir():
        return  # no mkdir at all: a rebuild on a read-only file system writes nothing
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(
            f"{out}: cannot create the output directory: {error.strerror or error}"
        ) from None


class DirectoryLock:
    """The flock a build holds on ``<out>/.synthc`` (see :func:`build_lock`)."""

    def __init__(self, out: Path, directory: Path, fd: int) -> None:
        self.out, self.directory, self.fd = out, directory, fd

    def held(self) -> bool:
        """Whether ``<out>/.synthc`` is still the directory this lock is on. The lock is on
        that directory, not on its name: once it is removed or replaced (``rm -r
        out/.synthc`` while the build ran, or the whole output), another build can lock the
        new one and write beside this one."""
        try:
            now = os.stat(self.directory, follow_symlinks=False)
        except OSError:
            return False
        locked = os.fstat(self.fd)
        return (now.st_dev, now.st_ino) == (locked.st_dev, locked.st_ino)

    def confirm(self) -> None:
        """BuildError unless :meth:`held`: this build must not commit its manifest."""
        if not self.held():
            raise BuildError(
                f"{self.out}: another build may have taken over this build's lock while it "
                f"ran ({self.directory} was removed or replaced, and with it the lock); no "
                "manifest was written: rerun once no other build writes this directory"
            )


@contextlib.contextmanager
def build_lock(out: Path) -> Iterator[DirectoryLock]:
    """Hold an exclusive lock on ``out`` so two builds never write one dataset at once.

    The lock is taken on the ``.synthc`` directory itself, so taking it writes nothing (a
    no-op rebuild on a read-only file system succeeds). A file system that cannot hold the
    directory at all fails with BuildError naming it. An flock belongs to the kernel's open
    file, not to a process id, so builds in other PID namespaces (containers sharing the
    directory) are kept out as well; the lock yielded says whether it still holds the
    directory (:meth:`DirectoryLock.confirm`, before the manifest is written).
    """
    directory = out / STATE_DIR
    _refuse_symlinks(out)
    created = not directory.is_dir()
    try:
        if created:
            directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as error:
        raise BuildError(f"{directory}: cannot create: {error.strerror or error}") from None
    lock = None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise
            raise UsageError(
                f"{out}: another synthc build is writing this directory; rerun once it has "
                "finished (or stop it: its finished shards are kept)"
            ) from None
        lock = DirectoryLock(out, directory, fd)
        yield lock
    except BaseException:
        # a build refused at once leaves no trace in a directory that is not ours; the
        # directory is removed only while it is the one this build locked (one created by
        # the build that holds the lock, or that took it over, is that build's)
        if created and lock is not None and lock.held():
            with contextlib.suppress(OSError):
                directory.rmdir()
        raise
    finally:
        os.close(fd)


def _check_shard_path(name: Any, where: str) -> None:
    """BadState unless ``name`` is a shard file in a split's folder (an entry of another split
    than the plan's is rebuilt, like any entry at odds with the plan): removing or replacing
    it never reaches a split's folder itself or a file at the top of the output."""
    parts = name.split("/") if isinstance(name, str) else []
    if not 2 <= len(parts) <= 3 or not parts[-1].endswith(_SHARD_SUFFIXES):
        raise BadState(
            f"{where}: {name!r:.80} is not a shard file in a split's folder "
            "(<split>/<name>.parquet or .tar, or <table>/<split>/<name>.parquet)"
        )
