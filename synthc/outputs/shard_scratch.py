"""Local scratch folders of a command on an object store, named after their process, and the
removal of the folders of processes that were killed.

A store shard is written to a local temporary folder, then put whole at its key (shard.py);
the preview of a store build (store_target.py), ``synthc verify`` (store_verify.py) and
``synthc reproduce`` (reproducing.py) of a store download shards to one, and ``synthc.open``
of a store fetches Parquet shards to one (dataset.py). A process killed
meanwhile (``kill -9``, the OOM killer, a preempted Dask worker) never removes its folder, which
holds up to a whole shard, or a whole rebuild; repeated, they fill the temporary directory. So
the folder's name holds its kind, the process id and its PID namespace, and each process that
makes such a folder first removes, once, the folders of processes of its own namespace that are
gone (a process id means nothing in another namespace, so theirs are left).
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import stat
import tempfile
from pathlib import Path

from synthc.outputs.store import pid_namespace, process_gone

#: the start of every shard folder's name: ``synthc-shard-<namespace>-<pid>-<random>``
PREFIX = "synthc-shard-"
#: the kinds of scratch folder (``synthc-<kind>-<namespace>-<pid>-<random>``)
KINDS = ("shard", "preview", "verify", "reproduce", "reproduce-copy", "open")


def shard_scratch() -> tempfile.TemporaryDirectory[str]:
    """A temporary folder for one shard (see :func:`scratch_folder`)."""
    return scratch_folder("shard")


def scratch_folder(kind: str) -> tempfile.TemporaryDirectory[str]:
    """A temporary folder of ``kind`` (one of :data:`KINDS`), removed when the block ends,
    after this process removed the folders that killed processes left (once per temporary
    directory)."""
    return tempfile.TemporaryDirectory(prefix=_prefix(kind))


def scratch_path(kind: str) -> str:
    """A temporary folder of ``kind`` as :func:`scratch_folder`, which the caller removes."""
    return tempfile.mkdtemp(prefix=_prefix(kind))


def _prefix(kind: str) -> str:
    """``synthc-<kind>-<namespace>-<pid>-``, once this process swept the temporary directory."""
    if kind not in KINDS:
        raise ValueError(f"no scratch folder kind {kind!r}")
    root = tempfile.gettempdir()
    namespace = _namespace()
    if namespace is not None:
        _swept(root, namespace)
    return f"synthc-{kind}-{namespace or 'x'}-{os.getpid()}-"


@functools.cache
def _swept(root: str, namespace: str) -> None:
    sweep(Path(root), namespace)


def sweep(root: Path, namespace: str) -> list[Path]:
    """Remove the scratch folders under ``root`` of processes of ``namespace`` that are gone
    (only this user's own folders); the ones removed."""
    kinds = "|".join(re.escape(kind) for kind in KINDS)
    name = re.compile(rf"synthc-(?:{kinds})-{re.escape(namespace)}-(\d{{1,10}})-[^/]+")
    removed: list[Path] = []
    try:
        entries = list(os.scandir(root))
    except OSError:
        return removed
    for entry in entries:
        found = name.fullmatch(entry.name)
        if found is None or not process_gone(int(found[1])):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid():
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(Path(entry.path))
    return removed


def _namespace() -> str | None:
    """This process's PID namespace as a number (``pid:[4026531836]``: 4026531836), or None."""
    digits = re.sub(r"\D", "", pid_namespace() or "")
    return digits or None
