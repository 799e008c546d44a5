"""Where a built dataset came from, read back from its output directory and checked against now.

In: a manifest (untrusted, already shape-checked by :func:`read_manifest`), the output directory
and the directory its spec repository is in now. Out: the recorded spec text and vars, where the
spec stood (:class:`SpecLocation`, confined to that directory), which recorded inputs changed
since (:class:`InputChange`) and which library versions differ. ``synthc reproduce`` uses these
before it rebuilds (synthc/reproducing.py).

The manifest's ``provenance`` is ``{"inputs": [{"path", "role", "sha256"}], "git": {"commit",
"path", "dirty"} | null}``: paths are relative to the spec repository's root when inside it,
else relative to the spec's directory; the spec itself, outside a repository, relative to the
directory the build ran in (or by its name when it was elsewhere). An older synthc recorded the
paths outside a repository as written (relative to the directory the build ran in, or
absolute). A manifest without provenance (older still) names only its spec, as ``spec.source``.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import synthc
from synthc import limits
from synthc.errors import OutputError, UsageError, one_line
from synthc.git_state import GitUnavailable, run_git
from synthc.inputs import PACKAGE_DATA, Root, package_roots
from synthc.outputs.confine import confine, read_bounded
from synthc.outputs.manifest import MANIFEST_FILE, installed_versions, library_report

#: the role of the spec itself among the recorded inputs
SPEC_ROLE = "spec"
#: the spec copy a build writes beside the shards (outputs/finish.py's SPEC_FILE)
SPEC_COPY = "spec.yaml"
#: recorded inputs checked at most (a manifest is bounded, this keeps the stat calls bounded)
MAX_RECORDED_INPUTS = 100_000
#: characters of a recorded path; longer ones are refused
_MAX_PATH_CHARS = 4096
#: the largest input synthc reads (templates, fonts, text, images, catalogs): hashed up to this
_MAX_INPUT_BYTES = max(limits.MAX_SPEC_BYTES, *limits.MAX_INPUT_BYTES.values())
#: a commit id as git spells it (sha-1 or sha-256)
_COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
#: seconds a local git query may take (no network is involved)


@dataclass(frozen=True)
class RecordedInput:
    """One input file as the manifest records it."""

    path: str
    role: str
    sha256: str


@dataclass(frozen=True)
class Provenance:
    """The manifest's ``provenance``: the inputs, and the git facts (None outside git)."""

    inputs: tuple[RecordedInput, ...]
    commit: str | None = None
    git_path: str | None = None
    dirty: bool = False


@dataclass(frozen=True)
class SpecLocation:
    """Where the recorded spec is compiled as if it stood, and what recorded paths are under."""

    path: Path
    #: the directory recorded input paths are relative to (the repository root, or the
    #: directory the build ran in)
    base: Path
    #: what a user should know about how the location was found (one line each)
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class InputChange:
    """A recorded input whose file is not what the build read."""

    path: str
    role: str
    why: str

    def __str__(self) -> str:
        return one_line(f"{self.path} ({self.role}): {self.why}")


def spec_copy(out: Path, manifest: dict[str, Any]) -> str:
    """The text of ``out/spec.yaml``, the spec as written; OutputError if it is missing, too big,
    not UTF-8, or not the copy whose sha256 the manifest records."""
    path = confine(out, SPEC_COPY, MANIFEST_FILE)
    try:
        if path.is_symlink():
            raise OutputError(f"{path}: is a symlink; a synthc spec copy is a plain file")
        data = read_bounded(path, limits.MAX_SPEC_BYTES, "MAX_SPEC_BYTES", OutputError)
    except FileNotFoundError:
        raise OutputError(f"{path}: missing; the dataset's spec copy is needed") from None
    except OSError as error:
        raise OutputError(f"{path}: unreadable ({error.strerror or error})") from None
    if hashlib.sha256(data).hexdigest() != _spec_section(out, manifest).get("sha256"):
        raise OutputError(f"{path}: does not match the sha256 the manifest records (spec.sha256)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise OutputError(f"{path}: not UTF-8 text") from None


def recorded_vars(out: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """The template variables the build used (``spec.vars``)."""
    variables = _spec_section(out, manifest).get("vars", {})
    if not isinstance(variables, dict) or not all(isinstance(k, str) for k in variables):
        raise OutputError(f"{out / MANIFEST_FILE}: spec.vars must map names to values")
    return variables


def read_provenance(out: Path, manifest: dict[str, Any]) -> Provenance | None:
    """The manifest's ``provenance``, shape-checked (the same words as the manifest reader's
    checks); None when it has none (an older synthc)."""
    if "provenance" not in manifest:
        return None
    section = manifest["provenance"]
    named = out / MANIFEST_FILE
    if not isinstance(section, dict) or not isinstance(section.get("inputs"), list):
        raise OutputError(f"{named}: provenance: must be an object with 'inputs' and 'git'")
    entries = section["inputs"]
    if len(entries) > MAX_RECORDED_INPUTS:
        raise OutputError(
            f"{named}: provenance.inputs lists {len(entries)} files, more than "
            f"{MAX_RECORDED_INPUTS}"
        )
    inputs = []
    for index, entry in enumerate(entries):
        where = f"{named}: provenance.inputs[{index}]"
        if not isinstance(entry, dict) or not all(
            isinstance(entry.get(key), str) for key in ("path", "role", "sha256")
        ):
            raise OutputError(f"{where}: must be an object with path, role and sha256")
        if not _usable_path(entry["path"]):
            raise OutputError(f"{where}.path: must be a non-empty path without control characters")
        inputs.append(RecordedInput(entry["path"], entry["role"], entry["sha256"]))
    git = section.get("git")
    if git is None:
        return Provenance(tuple(inputs))
    if not (
        isinstance(git, dict)
        and isinstance(git.get("commit"), str)
        and isinstance(git.get("path"), str)
        and isinstance(git.get("dirty"), bool)
    ):
        raise OutputError(
            f"{named}: provenance.git: must be null or an object with commit, path, dirty"
        )
    if not _usable_path(git["path"]):
        raise OutputError(
            f"{named}: provenance.git.path: must be a path without control characters"
        )
    return Provenance(tuple(inputs), git["commit"], git["path"], git["dirty"])


def _usable_path(name: str) -> bool:
    return bool(name) and len(name) <= _MAX_PATH_CHARS and one_line(name) == name


def locate_spec(
    out: Path, manifest: dict[str, Any], provenance: Provenance | None, root: Path | None
) -> SpecLocation:
    """Where the spec stood when the dataset was built, under ``root`` (default: the git work
    tree holding the current directory when the spec was in git, else the current directory).

    UsageError when the recorded location leaves that directory or its folder is gone.
    """
    named = out / MANIFEST_FILE
    notes: list[str] = []
    try:
        cwd = Path.cwd()
    except FileNotFoundError:
        if root is None:
            raise UsageError(
                "the current directory was removed: run reproduce from the spec repository, "
                "or give --root DIR"
            ) from None
        cwd = root
    if root is not None and not root.is_dir():
        raise UsageError(
            f"--root {root}: not a directory; give the root of the spec repository the dataset "
            "was built from"
        )
    if provenance is None:
        source = _spec_section(out, manifest).get("source")
        if not isinstance(source, str) or not source:
            raise OutputError(
                f"{named}: neither provenance nor spec.source says where the spec was"
            )
        base = root or cwd
        notes.append(
            f"{named} has no provenance (built by an older synthc): taking the spec to "
            f"be at {source} (spec.source) under {base}; its input files are not checked"
        )
        return SpecLocation(_confined(named, base, source, root), base, tuple(notes))
    if provenance.git_path is not None:
        found = root or _work_tree(cwd)
        if found is None:
            raise UsageError(
                f"the dataset was built from {provenance.git_path} in a git repository (commit "
                f"{(provenance.commit or '')[:12]}); run reproduce inside a clone of it, or "
                "give --root DIR"
            )
        base = found
        relative = provenance.git_path
        commit = provenance.commit or ""
        if root is None and not _has_commit(base, commit):
            # built from a spec in a submodule: its repository, not the enclosing one
            nested = _submodule_holding(base, commit)
            if nested is not None:
                base = nested
                notes.append(
                    f"taking the submodule {nested.relative_to(found).as_posix()}, which holds "
                    f"commit {commit[:12]}, as the repository"
                )
        head = _head(base)
        if head != commit:
            now = f"is at {head[:12]}" if head else "has no commit"
            notes.append(f"the repository {now}; the dataset was built at {commit[:12]}")
            if not _has_commit(base, commit):
                notes.append(
                    f"the repository at {base} does not hold commit {commit[:12]}: is it the "
                    "one the dataset was built from?"
                )
        if provenance.dirty:
            notes.append("the dataset was built from uncommitted changes (provenance.git.dirty)")
    else:
        specs = [i for i in provenance.inputs if i.role == SPEC_ROLE]
        if len(specs) != 1:
            raise OutputError(
                f"{named}: provenance.inputs must list one input with role "
                f"'{SPEC_ROLE}', not {len(specs)}"
            )
        base = root or cwd
        relative = specs[0].path
    return SpecLocation(_confined(named, base, relative, root), base, tuple(notes))


def changed_inputs(provenance: Provenance, location: SpecLocation) -> list[InputChange]:
    """Every recorded input whose file is missing or holds other bytes now.

    A path is looked up under the location's base (the repository root) then the spec's
    directory; outside a repository (no ``provenance.git``) first in the spec's directory, where
    such paths are recorded relative to, then under the base (the directory the build ran in,
    as older synthc recorded them); ``package:path`` in that package's data. A path that would
    leave those directories is named as not checked: it is read only where the spec names it.
    """
    places = [location.base, location.path.parent]
    if provenance.git_path is None:
        places.reverse()
    changes = []
    packages = package_roots()
    installed = {root.prefix for root in packages}
    absent: dict[str, int] = {}  # a data package not installed here: its inputs, counted
    # each file hashed once: a forged manifest may list one large file 100,000 times
    hashed: dict[Path, str] = {}
    for recorded in provenance.inputs:
        package, colon, _ = recorded.path.partition(":")
        if colon and package in PACKAGE_DATA and package not in installed:
            absent[package] = absent.get(package, 0) + 1
            continue
        why = _input_problem(recorded, places, packages, hashed)
        if why is not None:
            changes.append(InputChange(recorded.path, recorded.role, why))
    for package, count in absent.items():  # one line, not one per font
        changes.append(
            InputChange(
                f"{package}:*",
                f"{count} recorded input(s)",
                f"missing: {package}, whose data they are, is not installed here",
            )
        )
    return changes


#: a distribution's name (PEP 508), and how many of a manifest's library names are looked up
_PACKAGE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,98}[A-Za-z0-9])?")
_MAX_LOOKED_UP = 32


def library_changes(manifest: dict[str, Any]) -> list[str]:
    """``name: X at the build, Y now`` for synthc and every library whose version differs."""
    recorded = manifest.get("libraries")
    recorded = recorded if isinstance(recorded, dict) else {}
    then = {"synthc": manifest.get("synthc_version"), **recorded}
    now: dict[str, str] = {"synthc": synthc.__version__, **library_report()}
    # an installed kind's package and libraries, which only its manifests report
    # (the manifest is untrusted: only names a package may have, and a bounded number of them)
    names = [n for n in then if isinstance(n, str) and n not in now and _PACKAGE.fullmatch(n)]
    now.update(installed_versions(names[:_MAX_LOOKED_UP]))
    lines = []
    for name in sorted(set(then) | set(now), key=str):
        before, after = then.get(name), now.get(name)
        if before != after:
            was = _short_text(before) if before is not None else "not recorded"
            lines.append(
                one_line(
                    f"{_short_text(name)}: {was} at the build, "
                    f"{after if after is not None else 'not installed'} now"
                )
            )
    return lines


def _short_text(value: object) -> str:
    """A recorded (untrusted) value as at most 80 characters."""
    text = str(value)
    return text if len(text) <= 80 else text[:79] + "…"


def _spec_section(out: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    section = manifest.get("spec")
    if not isinstance(section, dict):
        raise OutputError(f"{out / MANIFEST_FILE}: spec must be an object")
    return section


def _confined(named: Path, base: Path, name: str, root: Path | None = None) -> Path:
    """``base/name`` (how the spec is shown: relative to the current directory when under it),
    if it stays under ``base`` after resolving symlinks and its folder exists; else UsageError
    (saying to give ``--root`` unless ``root``, the one given, is ``base``)."""
    instead = (
        f"is --root {root} the spec repository the dataset was built from?"
        if root is not None
        else "run reproduce from the spec repository the dataset was built from, or give --root DIR"
    )
    if len(name) > _MAX_PATH_CHARS or "\0" in name or one_line(name) != name:
        raise UsageError(f"{named}: the recorded spec path {one_line(name)[:200]!r} is refused")
    try:
        # its folder resolved, not a symlinked spec file: the spec stood where the link is
        placed = base / name
        real = placed.parent.resolve() / placed.name
        inside = real.is_relative_to(base.resolve()) and placed.name not in ("", ".", "..")
    except (OSError, RuntimeError) as error:
        raise UsageError(f"{base / name}: cannot be resolved ({error})") from None
    if not inside:
        raise UsageError(f"{named}: the recorded spec path {name!r} leaves {base}; {instead}")
    if not real.parent.is_dir():
        raise UsageError(f"{base / name}: the spec's directory does not exist; {instead}")
    try:
        return real.relative_to(Path.cwd().resolve())
    except (ValueError, FileNotFoundError):  # elsewhere, or the current directory was removed
        return real


def _input_problem(
    recorded: RecordedInput, places: list[Path], packages: list[Root], hashed: dict[Path, str]
) -> str | None:
    name = recorded.path
    if len(name) > _MAX_PATH_CHARS or "\0" in name or not name:
        return "not checked: not a usable path"
    package, colon, rest = name.partition(":")
    roots = [r for r in packages if r.prefix == package and colon]
    candidates = [(r.path, r.base / rest) for r in roots] or [(p, p / name) for p in places]
    found = False
    for allowed, candidate in candidates:
        try:
            real = candidate.resolve()
            if not real.is_relative_to(allowed.resolve()):
                continue
            info = real.stat()
        except FileNotFoundError:
            found = True  # a place it may be, but it is not there
            continue
        except (OSError, RuntimeError) as error:
            return f"not checked: {getattr(error, 'strerror', None) or error}"
        break
    else:
        return "missing" if found else "not checked: outside the repository and the spec's folder"
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file"
    if info.st_size > _MAX_INPUT_BYTES:
        return f"not checked: larger than {_MAX_INPUT_BYTES} bytes"
    try:
        digest = hashed.get(real) or _bounded_sha256(real)
        hashed[real] = digest
    except OSError as error:
        return f"unreadable ({error.strerror or error})"
    if digest != recorded.sha256:
        return (
            f"changed since the build (sha256 {one_line(recorded.sha256)[:16]}… recorded, "
            f"{digest[:16]}… now)"
        )
    return None


def _bounded_sha256(path: Path) -> str:
    """The sha256 of a regular file of at most ``_MAX_INPUT_BYTES``, checked on the open file."""
    digest = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > _MAX_INPUT_BYTES:
            raise OSError(f"{path}: not a regular file within the size limit")
        left = _MAX_INPUT_BYTES
        while left > 0 and (chunk := handle.read(min(1 << 22, left))):
            digest.update(chunk)
            left -= len(chunk)
    return digest.hexdigest()


def _git(directory: Path, *args: str) -> str | None:
    """The output of a local, read-only git query in ``directory``; None if git fails."""
    try:
        return run_git(directory, *args).strip()
    except GitUnavailable:
        return None


def _work_tree(directory: Path) -> Path | None:
    """The root of the git work tree holding ``directory``, if any."""
    top = _git(directory, "rev-parse", "--show-toplevel")
    return Path(top) if top else None


def _head(directory: Path) -> str:
    return _git(directory, "rev-parse", "--verify", "--quiet", "HEAD") or ""


#: submodules looked into for a recorded commit (a work tree may hold many)
_MAX_SUBMODULES = 64


def _submodule_holding(top: Path, commit: str) -> Path | None:
    """The first checked-out submodule of the work tree ``top`` (submodules of submodules
    too, at most :data:`_MAX_SUBMODULES` looked into) whose repository holds ``commit``."""
    pending = [top]
    looked = 0
    while pending:
        here = pending.pop(0)
        for entry in (_git(here, "ls-files", "--stage", "-z") or "").split("\0"):
            meta, _, path = entry.partition("\t")
            if not meta.startswith("160000 ") or not os.path.lexists(here / path / ".git"):
                continue  # not a submodule, or not checked out
            if looked == _MAX_SUBMODULES:
                return None
            looked += 1
            if _has_commit(here / path, commit):
                return here / path
            pending.append(here / path)
    return None


def _has_commit(directory: Path, commit: str) -> bool:
    """Whether the repository holds ``commit`` (a recorded, untrusted value: hex only)."""
    if not _COMMIT.fullmatch(commit):
        return False
    return _git(directory, "cat-file", "-e", f"{commit}^{{commit}}") is not None
