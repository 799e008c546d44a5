"""Where a build writes: the interface the one build driver (building.py) works through.

Two targets implement it: a local directory (dir_target.py) and a prefix on an object store
(store_target.py). Each keeps the same guarantees in its own terms: a shard appears whole or not
at all, the build state names only shards that survive a crash, synthc removes only what it
wrote, the manifest is retracted before anything changes and written last, one build at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol

from synthc.compiler.planning import Plan, ShardTask
from synthc.generators.base import PreviewKind
from synthc.outputs.preview import Caption
from synthc.outputs.state import BuildState


class Target(Protocol):
    """A build's output: a directory or an object-store prefix (see the module docstring)."""

    #: where the dataset is, as a BuildResult reports it (a path, or a URL without secrets)
    location: Path | str

    def check(self) -> None:
        """Refuse an output that cannot be one (not a directory, a symlink), writing nothing."""

    def session(self, log: Callable[[str], None]) -> AbstractContextManager[None]:
        """Hold the output for one build: created if needed, locked against other builds,
        released however the build ends."""

    def adopt(
        self, will_write: Iterable[str], force: bool, log: Callable[[str], None], dataset: str
    ) -> tuple[BuildState, bool]:
        """The untrusted state to build from, and whether it is new; refuses a state synthc
        cannot trust, or another dataset's output, unless ``force``. Writes nothing."""

    def save(self, state: BuildState) -> None:
        """Save ``state`` so that a killed build resumes from it; every shard it names is
        durable first."""

    def abort_io(self) -> None:
        """End the output's pending requests now (a store's, synthc.outputs.store_abort), for
        a build stopped while the output does not answer; nothing for a directory."""

    def unmark(self) -> None:
        """Remove the saved state of a new output whose build failed before recording anything,
        if the output holds nothing else (a shard a worker put in place unrecorded keeps it:
        the next build takes it over); a failure here is ignored, the build's error is told."""

    def current_shard(self, state: BuildState, path: str, key: str) -> dict[str, Any] | None:
        """The record of shard ``path`` if it was written from task ``key`` and is untouched."""

    def replaced_shards(self, state: BuildState, kept: dict[str, dict[str, Any]]) -> set[str]:
        """The paths among ``kept`` (shards judged current, with their state entries) whose
        bytes are not the ones their entry's size and sha256 describe: the state is untrusted,
        and size and mtime (a directory's) or ETag (a store's) do not tell bytes apart. A
        directory hashes only the files changed or moved since they were last hashed (change
        time and inode); a store hashes every kept object."""

    def current_manifest(self, state: BuildState, wanted: dict[str, Any]) -> dict[str, Any] | None:
        """The output's manifest if it already describes ``wanted`` (its identity: all but the
        build facts) and its files exist, else None."""

    def check_obstacles(self, names: Iterable[str]) -> None:
        """BuildError naming the first of ``names`` (files this build is about to write) that
        something synthc cannot write over stands at (a directory), before anything changes."""

    def retract_manifest(self, state: BuildState) -> None:
        """Remove the manifest of an earlier build before anything changes."""

    def discard_partials(self, plan: Plan, state: BuildState) -> None:
        """Remove what killed writers left (only temporaries of synthc's own files)."""

    def remove_owned(self, state: BuildState, path: str) -> None:
        """Remove the shard ``path``, which ``state`` says synthc wrote, and forget it."""

    def discard_unrecorded(self, state: BuildState) -> int:
        """Remove the shards at ``state.unrecorded()`` (a killed build's workers put them in
        place after its last save) and forget the list; how many were there. The caller
        saves the state."""

    def worker_location(self, tasks: list[ShardTask]) -> str:
        """What each worker is handed to write ``tasks``' shards (every path confined first)."""

    def record_shard(self, state: BuildState, record: dict[str, Any]) -> None:
        """Remember a shard a worker wrote, with what says later that it is unchanged."""

    def settle(self, plan: Plan, state: BuildState) -> None:
        """After the shards, before the finishing files: make the written shards durable and
        leave no partial behind (a lost Dask worker's)."""

    def build_facts(self) -> dict[str, Any]:
        """What the manifest's ``build`` section says about this output, beyond the common."""

    # the finisher's FileSink

    def write(self, name: str, data: bytes) -> None:
        """Put ``data`` at ``name`` (confined to the output) unless it already holds it."""

    def confirm_lock(self) -> None:
        """BuildError unless this build still holds the output's lock (another build may have
        taken it over while this one ran): said before the manifest, the commit, is written."""

    def draw(self, kind: PreviewKind, shards: list[str], caption: Caption) -> bytes:
        """preview.png drawn in this process from the shards at ``shards``."""
