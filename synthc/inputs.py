"""Reads of the files a spec names, confined: allowed roots, regular files only, size limits.

Allowed roots: the spec's directory, the spec repository's root (the nearest directory at or
above the spec's holding ``.git``), the data of packages synthc uses (trdg's ``fonts``, ``dicts``
and ``images``) and directories named with ``--allow-read``. A path is resolved, symlinks
included, before it is checked against the roots. Only regular files are opened: ``stat`` before
the open, ``O_NONBLOCK`` and ``fstat`` after it as a belt, so a FIFO or a device never blocks or
streams. Each kind of file has a size limit (``synthc.limits.MAX_INPUT_BYTES``), checked before
reading and enforced while reading.

What is recorded. Configs, task keys and the manifest hold a file as a portable entry
``{"name", "file", "root", "sha256"}``: ``root`` is ``spec``, ``repo``, ``allowed`` or
``package``, ``file`` the path relative to that root (package data: ``trdg/fonts/...``), ``name``
the file's name as listed or written. Never an absolute path of the build machine; the sha256
makes a content change change every task key.

Provenance: each entry made through a :class:`Reader` is also recorded there (``Reader.inputs``)
as a :class:`synthc.provenance.InputRecord` with its role, so the manifest and a depfile can
name every file the build read.

How a worker finds a file (the decision). The absolute path stays outside what is hashed and
recorded. Compiling a spec registers each file's location in this process, and the compiled spec
carries its root directories (:meth:`Reader.portable_roots`); a build hands them to every shard
task beside the task itself, as it hands the output directory, and the worker calls
:func:`use_roots`. :func:`locate` looks an entry up in this process, else joins ``file`` to each
root directory of its kind (package data: the worker's own installation), checks the result like
any read and accepts it only if its sha256 matches. Remote (Dask) workers therefore need the
spec's files at the same paths, as they need the output directory.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import os
import stat
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthc import file_digests, limits
from synthc.provenance import InputRecord, spell, through
from synthc.regular_files import InputError as InputError
from synthc.regular_files import check_regular, stat_of
from synthc.regular_files import read_regular as read_regular

#: package data synthc reads: package -> its data directories
PACKAGE_DATA = {"trdg": ("fonts", "dicts", "images")}
#: root directories per kind a worker remembers (the oldest are dropped)
_MAX_ROOTS = 32
#: the provenance role of a file of each kind, unless the reader is told another
_ROLES = {"font": "font", "text": "text", "image": "background", "catalog": "catalog"}


class FileProblem(ValueError):
    """A problem with a file (or data set) a config names, at ``field`` within the generator;
    ``messages`` are its lines (one; synthc.inputs.FileProblems has several)."""

    def __init__(self, field: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.field = field
        self.messages = [message]


class FileProblems(FileProblem):
    """Several problems with one file, all at ``field``: one line each."""

    def __init__(self, field: tuple[str | int, ...], messages: list[str]) -> None:
        super().__init__(field, "; ".join(messages))
        self.messages = list(messages)


@dataclass(frozen=True)
class Root:
    """A directory reads may come from: ``path`` is allowed, names are relative to ``base``."""

    kind: str
    path: Path
    base: Path
    prefix: str = ""

    def name_of(self, real: Path) -> str:
        rel = real.relative_to(self.base).as_posix()
        return f"{self.prefix}/{rel}" if self.prefix else rel


@dataclass(frozen=True)
class InputFile:
    """A confined regular file: real path, its root, portable name, listed name and kind."""

    path: Path
    root: Root
    name: str
    kind: str
    #: (device, inode) seen when the file was checked: the file opened must be the same one
    identity: tuple[int, int] = (0, 0)
    #: the path as written in the spec (or listed from a directory written there)
    written: str = ""
    #: what the file is to the build (synthc.provenance.ROLES)
    role: str = ""
    #: told of each entry made (the reader's record of what the compile read)
    seen: Callable[[InputFile, str], None] | None = field(default=None, compare=False, repr=False)
    #: the path it was opened by, if a symlink led from there (synthc.provenance.through)
    opened: Path | None = field(default=None, compare=False, repr=False)

    @property
    def suffix(self) -> str:
        """The lower-case suffix of the listed or written name (``.ttf``)."""
        return Path(self.name).suffix.lower()

    @property
    def file(self) -> str:
        """The portable name: relative to the root (package data: ``package/...``)."""
        return self.root.name_of(self.path)

    def read_bytes(self) -> bytes:
        """The file's bytes, refusing a non-regular file or one over its kind's limit."""
        return read_regular(self.path, self.kind, self.name, self.identity)

    def digest(self) -> tuple[str, bytes | None]:
        """The file's hex sha256, and its bytes when they had to be read: None when the digest
        was remembered for the file as it is now (synthc.file_digests)."""
        return digest_of(self.path, self.kind, self.name, self.identity)

    def entry(self, data: bytes | None = None) -> dict[str, str]:
        """The portable record of this file (registered so this process can locate it); from
        ``data``, its bytes, when given."""
        sha256 = self.digest()[0] if data is None else hashlib.sha256(data).hexdigest()
        return self.entry_of(sha256)

    def entry_of(self, sha256: str) -> dict[str, str]:
        """:meth:`entry`, given the file's digest (from :meth:`digest`)."""
        record = {
            "name": self.name,
            "file": self.file,
            "root": self.root.kind,
            "sha256": sha256,
        }
        _register(record, self.path, self.root)
        if self.seen is not None:
            self.seen(self, record["sha256"])
        return record


def repository_root(start: Path) -> Path | None:
    """The nearest directory at or above ``start`` holding ``.git`` (a directory or a file)."""
    for directory in (start, *start.parents):
        if os.path.lexists(directory / ".git"):
            return directory
    return None


def package_roots() -> list[Root]:
    """Data directories of the packages synthc reads from (without importing them)."""
    roots = []
    for package, folders in PACKAGE_DATA.items():
        spec = importlib.util.find_spec(package)
        if spec is None or spec.origin is None:
            continue
        home = Path(os.path.realpath(Path(spec.origin).parent))
        roots += [Root("package", home / f, home, package) for f in folders if (home / f).is_dir()]
    return roots


class Reader:
    """Confined reads for one spec: paths are relative to the spec's directory ``spec_dir``."""

    def __init__(self, spec_dir: Path | str, allow_read: Iterable[Path | str] = ()) -> None:
        if isinstance(allow_read, str | os.PathLike):
            allow_read = [allow_read]  # one directory, not its characters
        self.base = Path(spec_dir)
        spec_root = Path(os.path.realpath(self.base))
        #: the spec's directory, resolved: recorded paths outside the repository are relative to it
        self.spec_root = spec_root
        roots = [Root("spec", spec_root, spec_root)]
        repo = repository_root(spec_root)
        #: the spec repository's root (None outside one): recorded paths are relative to it
        self.repository = repo
        #: every file whose entry was made, by real path, in the order first read
        self.records: dict[Path, InputRecord] = {}
        #: every directory listed (``files_in``), resolved, with the path a symlink led there by
        self.directories: dict[Path, Path | None] = {}
        if repo is not None and repo != spec_root:
            roots.append(Root("repo", repo, repo))
        for directory in allow_read:
            real = Path(os.path.realpath(directory))
            if not real.is_dir():
                what = "not a directory" if real.exists() else "does not exist"
                raise InputError(
                    f"--allow-read {directory}: {what}; give a directory the spec may read "
                    "files under"
                )
            roots.append(Root("allowed", real, real))
        # package data first: its names (trdg/fonts/...) hold wherever the package is installed,
        # even in a virtual environment inside the spec's repository
        self.roots = tuple(package_roots()) + tuple(roots)

    def portable_roots(self) -> dict[str, list[str]]:
        """The root directories other than package data, by kind, for workers (use_roots)."""
        found: dict[str, list[str]] = {}
        for root in self.roots:
            if root.kind != "package":
                found.setdefault(root.kind, []).append(str(root.base))
        return found

    def describe_roots(self) -> str:
        """The allowed roots in words, for messages."""
        words = {
            "spec": "the spec's directory",
            "repo": "its repository",
            "package": "trdg's bundled data",
            "allowed": "--allow-read directories",
        }
        kinds = {r.kind for r in self.roots}
        return ", ".join(words[k] for k in words if k in kinds)

    def listed(self) -> tuple[Path, ...]:
        """The directories listed so far, each resolved and as opened through a symlink: a file
        added to one or removed from it changes what the spec reads (for depfiles)."""
        return tuple(p for real, opened in self.directories.items() for p in (real, opened) if p)

    def inputs(self) -> list[InputRecord]:
        """The files read through this reader so far (each once), for provenance."""
        return list(self.records.values())

    def _seen(self, file: InputFile, sha256: str) -> None:
        if file.root.kind == "package":  # portable wherever the package is installed
            path = f"{file.root.prefix}:{file.path.relative_to(file.root.base).as_posix()}"
        else:
            path = spell(file.path, self.repository, self.spec_root)
        package = file.root.kind == "package"
        record = InputRecord(path, file.role, sha256, file.path, file.opened, package=package)
        self.records.setdefault(file.path, record)

    def file(self, path: Path | str, kind: str, role: str | None = None) -> InputFile:
        """The regular file at ``path`` (relative to the spec's directory), confined; ``role``
        names what it is in the provenance (default: from ``kind``)."""
        written = self.base / path
        found = self._regular(written, Path(path).name or str(path), kind, str(path))
        return self._as(found, role)

    def _as(self, file: InputFile, role: str | None) -> InputFile:
        role = role or _ROLES.get(file.kind, file.kind)
        return dataclasses.replace(file, role=role, seen=self._seen)

    def files_in(
        self,
        directory: Path | str,
        suffixes: tuple[str, ...],
        kind: str,
        role: str | None = None,
    ) -> list[InputFile]:
        """The regular files with one of ``suffixes`` in ``directory``, in name order.

        Entries with other suffixes are never opened; a matching entry that is not a regular
        file, or resolves outside the roots, is an error naming it.
        """
        written = self.base / directory
        real, _ = self._confine(written, str(directory))
        mode = stat_of(real, str(directory)).st_mode
        if not stat.S_ISDIR(mode):
            raise InputError(f"{str(directory)!r} is not a directory")
        self.directories.setdefault(real, through(written, real))
        names = []
        plain = set()  # entries that are no symlink: already resolved below the resolved ``real``
        with os.scandir(real) as listing:
            for item in listing:
                if Path(item.name).suffix.lower() in suffixes:
                    names.append(item.name)
                    if not item.is_symlink():
                        plain.add(item.name)
                    if len(names) > limits.MAX_INPUT_FILES:
                        raise InputError(
                            f"{str(directory)!r} has more than {limits.MAX_INPUT_FILES} "
                            f"{'/'.join(suffixes)} files (synthc.limits.MAX_INPUT_FILES)"
                        )
        if not names:
            raise InputError(f"{str(directory)!r}: no {'/'.join(suffixes)} files")
        shown = str(directory).rstrip("/")
        return [
            self._as(
                self._regular(real / n, n, kind, f"{shown}/{n}" if shown != "." else n, n in plain),
                role,
            )
            for n in sorted(names)
        ]

    def _regular(
        self, path: Path, name: str, kind: str, shown: str, resolved: bool = False
    ) -> InputFile:
        real, root = self._confine(path, shown, resolved)
        info = stat_of(real, shown)
        check_regular(info, kind, shown)
        identity = (info.st_dev, info.st_ino)
        return InputFile(real, root, name, kind, identity, shown, opened=through(path, real))

    def _confine(self, path: Path, shown: str, resolved: bool = False) -> tuple[Path, Root]:
        """``path`` resolved (as it is, if ``resolved``) and the first root holding it."""
        try:
            real = path if resolved else Path(os.path.realpath(path))
        except (OSError, ValueError) as error:  # a NUL byte, a name too long
            raise InputError(f"{shown!r}: not a usable path ({error})") from None
        for root in self.roots:
            if real == root.path or real.is_relative_to(root.path):
                return real, root
        if not os.path.lexists(path):
            raise InputError(f"{shown!r} does not exist", missing=True)
        raise InputError(
            f"{shown!r} resolves outside the directories a spec may read ("
            f"{self.describe_roots()}); run with --allow-read DIR to permit another directory"
        )


def digest_of(
    path: Path, kind: str, shown: str, identity: tuple[int, int] | None = None
) -> tuple[str, bytes | None]:
    """The hex sha256 of the regular file ``path`` (a real path) of ``kind``, and its bytes when
    they had to be read (:func:`read_regular`, which refuses what it refuses); None when its
    digest was remembered for the file as it is now (synthc.file_digests)."""

    def usable(found: os.stat_result) -> bool:
        try:
            check_regular(found, kind, shown)
        except InputError:
            return False  # read_regular says why
        return identity in (None, (0, 0)) or identity == (found.st_dev, found.st_ino)

    def read() -> bytes:
        return read_regular(path, kind, shown, identity)

    return file_digests.sha256_of(path, read, usable)


# -- finding a recorded file again (in this process or a worker) ------------------------------
_LOCATIONS: dict[tuple[str, str, str], str] = {}
_ROOTS: dict[str, list[str]] = {}
_LOCK = threading.Lock()


def _register(record: dict[str, str], real: Path, root: Root) -> None:
    with _LOCK:
        _LOCATIONS[(record["root"], record["file"], record["sha256"])] = str(real)


def use_roots(roots: Any) -> None:
    """Remember root directories (``{kind: [dir, ...]}``, from :meth:`Reader.portable_roots`)
    where :func:`locate` looks for recorded files; called by workers before a task."""
    if not isinstance(roots, dict):
        return
    with _LOCK:
        for kind, dirs in roots.items():
            if kind == "package" or not isinstance(dirs, list):
                continue  # package data is found in the worker's own installation
            known = [d for d in _ROOTS.get(kind, []) if d not in dirs]
            fresh = [d for d in dirs if isinstance(d, str)]
            _ROOTS[str(kind)] = [*known, *fresh][-_MAX_ROOTS:]


def locate(entry: dict[str, Any], kind: str) -> str:
    """The absolute path of the recorded file ``entry`` on this machine (see module doc)."""
    key = (entry["root"], entry["file"], entry["sha256"])
    found = _LOCATIONS.get(key)
    if found is not None:
        return found
    for root in _candidate_roots(entry["root"], entry["file"]):
        path = Path(os.path.realpath(root.base / _relative(root, entry["file"])))
        if not path.is_relative_to(root.path):
            continue
        try:
            digest, _ = digest_of(path, kind, entry["file"])
        except InputError:
            continue
        if digest == entry["sha256"]:
            with _LOCK:
                _LOCATIONS[key] = str(path)
            return str(path)
    raise InputError(
        f"{entry['file']!r} (root {entry['root']}, sha256 {entry['sha256'][:12]}...) is not found "
        "on this machine under the spec's roots; a remote worker needs the spec's files at the "
        "same paths"
    )


def _relative(root: Root, file: str) -> str:
    return file.split("/", 1)[1] if root.prefix else file


def _candidate_roots(kind: str, file: str) -> list[Root]:
    if kind == "package":
        return [r for r in package_roots() if file.startswith(f"{r.prefix}/")]
    with _LOCK:
        dirs = list(_ROOTS.get(kind, []))
    return [Root(kind, Path(d), Path(d)) for d in dirs]
