"""Which build state a build starts from: the directory's own, one rebuilt from a verifying
manifest, or (with --force) a fresh one that takes over only the files the build will write."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from synthc import limits
from synthc.errors import OutputError, UsageError
from synthc.hints import listed
from synthc.outputs.confine import Confiner
from synthc.outputs.manifest import MANIFEST_FILE, read_manifest
from synthc.outputs.state import STATE_DIR, BadState, BuildState, CopiedState, seen
from synthc.outputs.verify import regular_state, verify_dataset

#: files named in one error message before "and N more"
LISTED_FILES = 10


def adopt_state(
    out: Path,
    will_write: Iterable[str],
    force: bool,
    log: Callable[[str], None],
    dataset: str | None = None,
) -> tuple[BuildState, bool]:
    """The state to build ``out`` from, and whether it is new (and must be saved).

    synthc never deletes a file it did not write: a state it cannot trust is an error (with
    --force it is set aside, never followed), and a directory without a state is only used
    when its manifest verifies or when --force takes over the files the build will write.
    A directory that holds another dataset than ``dataset`` (the spec's name, as its state or
    manifest records it) is refused unless ``force``.
    """
    try:
        state = BuildState.load(out)
    except CopiedState as error:  # as if it were lost: the manifest says what is synthc's
        log(f"{error}; set aside")
        state = None
    except BadState as error:
        if not force:
            raise BadState(
                f"{error}; synthc deleted nothing. Rerun with --force to set this state aside: "
                "synthc then rebuilds it from manifest.json if that verifies, or takes over "
                "only the files it writes"
            ) from None
        log(f"{error}: set aside (--force)")
        state = None
    if state is not None:
        _check_dataset(out, state.dataset or _manifest_dataset(out), dataset, force, log)
        return state, False
    confiner = Confiner(out, "the build plan")
    names = [confiner(name) for name in will_write]
    if not out.is_dir() or not any(p.name != STATE_DIR for p in out.iterdir()):
        return BuildState(), True
    taken = sorted(str(p.relative_to(out)) for p in names if p.exists() or p.is_symlink())
    recovered = state_from_manifest(out)
    reason = f"no build state, and no verifying {MANIFEST_FILE}"
    if recovered is not None:
        owned = recovered.shards.keys() | recovered.files.keys()
        taken = [name for name in taken if name not in owned]
        if not taken or force:
            _check_dataset(out, _manifest_dataset(out), dataset, force, log)
            log(f"{out}: no build state; rebuilt it from {MANIFEST_FILE}, which verifies")
            if taken:
                log(f"{out}: took over {_bounded(taken)} (--force)")
            return recovered, True
        reason = f"no build state; {MANIFEST_FILE} verifies but does not list them all"
    if not force:
        if taken:
            plan = (
                f"synthc would take over {len(taken)} file(s) it writes ({_bounded(taken)}); "
                "rerun with --force to take them over (other files are left alone)"
            )
        else:
            plan = (
                "none of its files are synthc's names, so rerun with --force to write beside "
                "them (they are left alone)"
            )
        raise UsageError(
            f"{out}: not empty and not a synthc output ({reason}); {plan}, "
            "or choose another directory with -o"
        )
    log(
        f"{out}: took over {len(taken)} file(s) synthc writes (--force)"
        + (f": {_bounded(taken)}" if taken else "")
        + "; every other file there is left alone"
    )
    return BuildState(), True


def _check_dataset(
    out: Path, recorded: str | None, dataset: str | None, force: bool, log: Callable[[str], None]
) -> None:
    """UsageError when ``out`` holds another dataset than ``dataset``, unless ``force``."""
    if recorded is None or dataset is None or recorded == dataset:
        return
    if not force:
        raise UsageError(
            f"{out}: holds the dataset {recorded!r}, not {dataset!r} (the spec's name); "
            "rerun with --force to replace it, or choose another directory with -o"
        )
    log(f"{out}: replacing the dataset {recorded!r} with {dataset!r} (--force)")


def _manifest_dataset(out: Path) -> str | None:
    """The dataset name the manifest of ``out`` records, if it has a readable one."""
    try:
        name = read_manifest(out).get("dataset", {}).get("name")
    except (OutputError, AttributeError):
        return None
    return name if isinstance(name, str) else None


def state_from_manifest(out: Path) -> BuildState | None:
    """The state a verifying manifest implies (its shards and files), or None."""
    manifest = verified_manifest(
        lambda: read_manifest(out), lambda: verify_dataset(out, count=False)[1]
    )
    if manifest is None:
        return None
    state = BuildState()
    for path, entry in shard_entries(manifest).items():
        stat = (out / path).stat()  # hashed by the verify above
        state.shards[path] = {**entry, "mtime_ns": stat.st_mtime_ns, "seen": seen(stat)}
    for name in [*manifest.get("files", []), MANIFEST_FILE]:
        # no size is recorded for these: one larger than a manifest may be is not synthc's
        found = regular_state(out / name, at_most=limits.MAX_MANIFEST_BYTES)
        if isinstance(found, str) or found[1] is None:
            return None
        state.files[name] = found[1]
    return state


def verified_manifest(
    read: Callable[[], dict[str, Any]], problems: Callable[[], list[Any]]
) -> dict[str, Any] | None:
    """The manifest ``read()`` gives, when ``problems()`` (its verification) finds none and it
    lists its files (older manifests do not say which files are synthc's); else None."""
    try:
        manifest = read()
        if problems():
            return None
    except OutputError:
        return None
    return manifest if "files" in manifest else None


def shard_entries(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The build state's entry of each shard a (verified) manifest lists, by path, without
    what says its file is unchanged (a directory's mtime, a store's stamp)."""
    entries: dict[str, dict[str, Any]] = {}
    for split, entry in manifest["splits"].items():
        numbers: dict[Any, int] = {}  # related tables: shards are numbered per table
        for shard in entry["shards"]:
            path = shard["path"]
            index = numbers[shard.get("table")] = numbers.get(shard.get("table"), -1) + 1
            entries[path] = {
                "path": path,
                "split": split,
                "shard": index,
                "first_sample": shard["first_sample"],
                "samples": shard["samples"],
                "bytes": shard["bytes"],
                "sha256": shard["sha256"],
                "task_key": shard["task_key"],
                "stats": dict(shard.get("stats", {})),
                **({"table": shard["table"]} if "table" in shard else {}),
            }
    return entries


def _bounded(names: list[Any]) -> str:
    return listed(names, LISTED_FILES)
