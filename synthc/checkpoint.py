"""When a build saves its state while shards finish.

A build records each finished shard in its state at once; writing the state is a durable write
(an fsync'd file, or one PUT to an object store) that grows with the plan: saving it after every
shard costs O(shards^2) in all (2,000 shards: 7.5 s of a 12 s build). So the state is saved when
the time since the last save is at least ``1 / SAVE_SHARE`` times what that save took, and once
more when the shards stop, finished or failed: saving takes at most about SAVE_SHARE of the
driver's time, a small state is still saved after nearly every shard, and a killed build rebuilds
(byte for byte the same) only the shards finished since the last save.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from synthc.deadline import STOP_SECONDS, NoAnswer, interrupted

#: the most of a build's time that saving its state may take
SAVE_SHARE = 0.1


class Checkpoint:
    """Calls ``save`` as things change (:meth:`changed`), at most about ``share`` of the time
    (default SAVE_SHARE; 1 or more: at every change), and at the end (:meth:`close`)."""

    def __init__(
        self,
        save: Callable[[], None],
        share: float | None = None,
        stopping: Callable[[], None] | None = None,
        where: object = "the output",
    ) -> None:
        #: the last save of a build stopped by Ctrl-C or SIGTERM, bounded in time
        #: (synthc.deadline.within); ``where`` names the output in what it says
        self._stopping, self._where = stopping, where
        self._save = save
        self._share = SAVE_SHARE if share is None else share
        self._cost = 0.0  # seconds the last save took
        self._last = time.monotonic()  # when it ended
        self._unsaved = False

    def unsaved(self) -> None:
        """Something changed that is saved at the next save, at the latest by :meth:`close`
        (for what a stop may interrupt before :meth:`changed` is called)."""
        self._unsaved = True

    def changed(self) -> None:
        """Something changed: save now unless the last save was too recent for its cost."""
        self._unsaved = True
        if self._share >= 1 or time.monotonic() - self._last >= self._cost / self._share:
            self._write()

    def close(self) -> None:
        """Save what is unsaved. Called in a ``finally``: while another error propagates, a
        failing save (a full disk) does not replace it."""
        if not self._unsaved:
            return
        stop = interrupted()
        if stop is not None and self._stopping is not None:
            # stopped: the save may not keep the command from stopping, nor hide why it did
            try:
                self._stopping()
            except NoAnswer:
                stop.add_note(
                    f"{self._where}: did not answer in {STOP_SECONDS:g} s: the build state "
                    "was not saved; the shards finished since its last save are built again"
                )
            except Exception as error:  # noqa: BLE001 - said beside the interrupt
                stop.add_note(f"the build state was not saved: {error}")
            return
        failing = sys.exc_info()[1] is not None
        try:
            self._write()
        except OSError:
            if not failing:
                raise

    def _write(self) -> None:
        started = time.monotonic()
        self._save()
        self._last = time.monotonic()
        self._cost = self._last - started
        self._unsaved = False
