"""The git state of a build's inputs: the commit, the spec's path in it, and what is not committed.

Read with the ``git`` program, never over the network, each call bounded in time, and safe on a
repository we do not control: no optional locks (nothing is written), no fsmonitor or hook
program run, no external diff or textconv driver, no clean filter but git-lfs's. ``GIT_DIR`` and
friends from the environment are dropped, so the repository is the one the spec is in. A git
that is missing, refuses the repository or fails in any way gives :class:`GitUnavailable` with
the reason, never a traceback.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synthc.provenance import InputRecord

#: seconds one git call may take
GIT_TIMEOUT = 20.0
_SAFE = ("--no-optional-locks", "-c", "core.fsmonitor=", "-c", "core.hooksPath=/dev/null")
#: variables that would point git at another repository, index or work tree than the spec's
_DROPPED = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_CEILING_DIRECTORIES",
    "GIT_NAMESPACE",
)


#: why an input outside the work tree (not package data) is not committed
OUTSIDE = "outside the repository (no commit holds it; move it into the repository)"


class GitUnavailable(Exception):
    """No git state: not in a work tree, no commit yet, or git failed (the message says why)."""


@dataclass(frozen=True)
class GitState:
    """The spec repository at build time: HEAD, the spec's path in it, the inputs not committed."""

    commit: str
    path: str
    #: inputs that differ from HEAD, are not in it or are outside the work tree: (path, what)
    uncommitted: tuple[tuple[str, str], ...]

    @property
    def dirty(self) -> bool:
        """True if any input (package data aside) is not as committed in HEAD."""
        return bool(self.uncommitted)

    def to_json(self) -> dict[str, Any]:
        """The manifest's ``provenance.git``: ``{"commit", "path", "dirty"}``."""
        return {"commit": self.commit, "path": self.path, "dirty": self.dirty}


def git_state(spec: Path, inputs: Sequence[InputRecord], listed: Sequence[Path] = ()) -> GitState:
    """The git state of the work tree holding the spec file ``spec`` (its folder: a symlinked
    spec file stands where the link is) for these ``inputs``;
    GitUnavailable if there is none. Package data (``InputRecord.package``) is pinned by its
    sha256 and package version and does not count; any other input outside the work tree is
    uncommitted (:data:`OUTSIDE`): no commit says what it held. A file inside a submodule (or
    another repository nested in the work tree) is judged by that repository: committed and
    unchanged in its ``HEAD``, and that ``HEAD`` the commit the enclosing ``HEAD`` records for
    it. A symlink an input was opened through (``cur.j2 -> v1.j2``, a linked folder) is judged
    as the file git holds it as, and so is one on the way to a directory in ``listed`` (the
    folders whose files the spec takes: ``fonts.dir``, ...)."""
    # the spec stands in its own folder even when the file is a symlink: includes are
    # searched there, so reproduce must place it there
    directory = Path(os.path.realpath(Path(spec).parent))
    top = Path(os.path.realpath(run_git(directory, "rev-parse", "--show-toplevel").rstrip("\n")))
    try:
        commit = run_git(top, "rev-parse", "--verify", "--quiet", "HEAD^{commit}").strip()
    except GitUnavailable:
        raise GitUnavailable(f"the git repository {top} has no commit yet") from None
    inside = set()
    outside = []
    for record in inputs:
        if record.package:  # pinned by its sha256 and its package's version, even in the tree
            continue
        real = Path(os.path.realpath(record.real))
        if real.is_relative_to(top):
            inside.add(real.relative_to(top).as_posix())
        else:
            outside.append((record.path, OUTSIDE))
    # a link re-pointed since HEAD reads another file than HEAD's link does
    opened = [r.opened for r in inputs if not r.package] + list(listed)
    links = [link for path in opened for link in _links_on(path)]
    inside.update(p.relative_to(top).as_posix() for p in links if p.is_relative_to(top))
    uncommitted = sorted(_uncommitted(top, inside, None) + outside + _deleted_from(top, listed))
    spec_path = (directory / Path(spec).name).relative_to(top).as_posix()
    return GitState(commit, spec_path, tuple(uncommitted))


#: why a file HEAD holds in a folder the spec takes files from is not committed
DELETED = "deleted since HEAD from a folder the spec takes its files from"


def _deleted_from(top: Path, listed: Sequence[Path]) -> list[tuple[str, str]]:
    """The files HEAD holds directly in the folders ``listed`` (``fonts.dir``, ...) that are
    gone from the work tree: a checkout of HEAD would give the spec one more file. Folders in
    a nested repository are left to it."""
    folders = set()
    for folder in listed:
        real = Path(os.path.realpath(folder))
        if real.is_relative_to(top):
            rel = real.relative_to(top).as_posix()
            if rel == "." or _nested_root(top, f"{rel}/x") is None:
                folders.add(rel)
    found = []
    for rel in sorted(folders):
        where = () if rel == "." else (f"{rel}/",)
        for entry in _nul_list(run_git(top, "ls-tree", "-z", "HEAD", "--", *where)):
            meta, _, path = entry.partition("\t")
            if meta.split(" ")[1:2] == ["blob"] and not os.path.lexists(top / path):
                found.append((path, DELETED))
    return found


def _links_on(opened: Path | None) -> list[Path]:
    """The symlinks on the path ``opened`` (absolute) an input was opened by, each spelled by
    its resolved folder: git holds a symlink as a file whose content is its target."""
    if opened is None:
        return []
    found = []
    path = Path(opened.anchor)
    for part in opened.parts[1:]:
        path = path / part
        if os.path.islink(path):
            found.append(Path(os.path.realpath(path.parent)) / path.name)
    return found


def _uncommitted(top: Path, paths: set[str], submodule: str | None) -> list[tuple[str, str]]:
    """The files among ``paths`` (relative to the work tree ``top``) that are not as its
    ``HEAD`` holds them, with why; ``submodule``: ``top``'s path in the spec repository (None
    for the spec repository itself), for the reasons."""
    nested: dict[str, set[str]] = {}
    own = set()
    for rel in paths:
        root = _nested_root(top, rel)
        if root is None:
            own.add(rel)
        else:
            nested.setdefault(root, set()).add(rel[len(root) + 1 :])
    found = []
    for root, inner in sorted(nested.items()):
        name = f"{submodule}/{root}" if submodule else root
        judged = _in_nested(top, root, inner, name)
        if judged is None:  # a `.git` git does not take for a repository: the files are top's
            own.update(f"{root}/{p}" for p in inner)
        else:
            found += [(f"{root}/{p}", why) for p, why in judged]
    folders = sorted({str(Path(p).parent) for p in own})
    committed = _blobs(top, folders) if own else {}
    diff = ("diff", "--no-ext-diff", "--no-textconv", "--name-only", "-z", "HEAD", "--")
    changed = set(_nul_list(run_git(top, *_no_filters(top), *diff, *folders))) if own else set()
    changed |= _changed_unseen(top, own & committed.keys(), committed)
    inside = f" in the submodule {submodule}" if submodule else ""
    for rel in sorted(own):
        if rel not in committed:
            found.append((rel, f"not committed{inside} (untracked, ignored or only staged)"))
        elif rel in changed:
            found.append((rel, f"differs from HEAD{inside}"))
    return found


#: the clean filters kept: git-lfs's own (a program of its own, not a command the repository's
#: config names); any other is a command a repository we do not control could choose
_KNOWN_FILTERS = frozenset(["git-lfs clean -- %f", "git-lfs filter-process"])


def _no_filters(top: Path) -> tuple[str, ...]:
    """``-c`` options that turn off every clean filter of ``top``'s config but git-lfs's (git
    runs one on each changed file ``diff`` or ``hash-object`` reads: a command the repository
    chose); the file is then compared as it is."""
    try:
        listed = run_git(top, "config", "-z", "--get-regexp", r"^filter\.")
    except GitUnavailable:  # none configured (git config exits 1), or unreadable
        return ()
    names: dict[str, bool] = {}
    for entry in _nul_list(listed):
        key, _, value = entry.partition("\n")
        name, _, variable = key[len("filter.") :].rpartition(".")
        if variable in ("clean", "process"):
            names[name] = names.get(name, True) and value in _KNOWN_FILTERS
    options: list[str] = []
    for name, known in sorted(names.items()):
        if not known:
            for variable, value in (("clean", ""), ("process", ""), ("required", "false")):
                options += ["-c", f"filter.{name}.{variable}={value}"]
    return tuple(options)


def _blobs(top: Path, folders: list[str]) -> dict[str, str]:
    """The files HEAD holds in ``folders`` (not below them in nested repositories), each with
    its blob id."""
    found = {}
    for entry in _nul_list(run_git(top, "ls-tree", "-r", "-z", "HEAD", "--", *folders)):
        meta, _, path = entry.partition("\t")
        fields = meta.split(" ")
        if fields[1:2] == ["blob"]:
            found[path] = fields[2]
    return found


def _changed_unseen(top: Path, paths: set[str], blobs: dict[str, str]) -> set[str]:
    """The files among ``paths`` that git is told not to look at (``update-index
    --assume-unchanged`` or ``--skip-worktree``, which ``git diff`` then passes over) whose
    bytes, cleaned as ``git add`` would store them, are not HEAD's blob."""
    if not paths:
        return set()
    listed = _nul_list(run_git(top, "ls-files", "-v", "-z", "--", *sorted(paths)))
    # the tag is lower case for assume-unchanged, S for skip-worktree
    unseen = sorted(e[2:] for e in listed if e[2:] in paths and (e[0].islower() or e[0] == "S"))
    if not unseen:
        return set()
    stored = run_git(top, *_no_filters(top), "hash-object", "--", *unseen).split()
    return {path for path, oid in zip(unseen, stored, strict=False) if oid != blobs.get(path)}


def _nested_root(top: Path, rel: str) -> str | None:
    """The outermost folder of ``rel`` below ``top`` holding ``.git`` (a submodule's is a
    file), or None."""
    parts = rel.split("/")[:-1]
    for depth in range(1, len(parts) + 1):
        folder = "/".join(parts[:depth])
        if os.path.lexists(top / folder / ".git"):
            return folder
    return None


def _in_nested(top: Path, root: str, paths: set[str], name: str) -> list[tuple[str, str]] | None:
    """The files among ``paths`` (relative to ``top/root``, a repository nested in ``top``)
    that are not committed as ``top``'s HEAD pins them: uncommitted in that repository, or
    its HEAD not the commit ``top``'s HEAD records for ``root``. None when ``top/root`` is not a
    work tree of its own."""
    where = top / root
    try:
        own_top = run_git(where, "rev-parse", "--show-toplevel").rstrip("\n")
        if Path(os.path.realpath(own_top)) != Path(os.path.realpath(where)):
            return None
        head = run_git(where, "rev-parse", "--verify", "--quiet", "HEAD^{commit}").strip()
    except GitUnavailable as error:
        return [(p, f"in the submodule {name}, which git cannot read ({error})") for p in paths]
    recorded = None
    for entry in _nul_list(run_git(top, "ls-tree", "-z", "HEAD", "--", root)):
        meta, _, entry_path = entry.partition("\t")
        if entry_path == root and meta.split(" ")[1:2] == ["commit"]:
            recorded = meta.split(" ")[2]
    problems = dict(_uncommitted(where, paths, name))
    found = []
    for rel in sorted(paths):
        if rel in problems:
            found.append((rel, problems[rel]))
        elif recorded is None:
            found.append((rel, f"in {name}, a repository HEAD does not record as a submodule"))
        elif head != recorded:
            found.append(
                (
                    rel,
                    f"the submodule {name} is at {head[:12]}, not at the commit {recorded[:12]} "
                    "HEAD records for it",
                )
            )
    return found


def _nul_list(output: str) -> list[str]:
    return [item for item in output.split("\0") if item]


def run_git(cwd: Path, *args: str) -> str:
    """The output of a read-only git command in ``cwd``, run safely on a repository synthc does not
    control (no hooks, fsmonitor or optional locks; GIT_DIR and the like dropped); raises
    GitUnavailable with the reason."""
    env = {k: v for k, v in os.environ.items() if k not in _DROPPED}
    env.update(GIT_LITERAL_PATHSPECS="1", GIT_TERMINAL_PROMPT="0", GIT_OPTIONAL_LOCKS="0")
    try:
        done = subprocess.run(
            ["git", *_SAFE, *args],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        raise GitUnavailable("the git program is not installed") from None
    except subprocess.TimeoutExpired:
        raise GitUnavailable(f"git {args[0]} took longer than {GIT_TIMEOUT:.0f} s") from None
    except OSError as error:
        raise GitUnavailable(f"git could not run: {error.strerror or error}") from None
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
        first = reason[0] if reason else f"exit status {done.returncode}"
        if "not a git repository (or any" in first:  # not a broken .git, which git names
            raise GitUnavailable(f"{cwd} is not in a git work tree")
        raise GitUnavailable(f"git {args[0]} failed in {cwd}: {first}")
    return done.stdout.decode("utf-8", "surrogateescape")
