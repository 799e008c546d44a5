"""Samples generated on the fly: the bytes a build writes, split over ranks and workers.

In: a spec, compiled once where :func:`stream` is called. Out: a :class:`Stream`, iterable any
number of times (one epoch each) and picklable, so a PyTorch DataLoader can copy it into its
workers. Nothing is written. File generators yield dicts shaped like the ``webdataset`` library's
samples (``__key__`` and one entry per file extension, the bytes the tar member holds); table
generators yield polars DataFrames of consecutive rows, equal to the built Parquet rows.

The order (docs/training.md): the split's sample indices (shifted by ``e * samples`` for the fresh
epoch ``e``) are cut into blocks of ``B`` consecutive samples; block ``b`` goes to rank
``b % world_size``, and a rank's ``j``-th block to its worker ``j % num_workers``. Each worker
yields its blocks in increasing order, each block in index order, so every sample of the split is
yielded exactly once per epoch over all ranks and workers, and ranks' sample counts differ by at
most ``B``.
"""

from __future__ import annotations

import operator
import os
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from synthc import generators, inputs, limits
from synthc.compiler.compiling import CompiledSpec, compile_spec
from synthc.compiler.paths import format_path
from synthc.compiler.shard_sizing import largest_shard_size
from synthc.compiler.splits import split_ranges
from synthc.errors import UsageError, counted
from synthc.generator_output import check_frame, checked_samples
from synthc.generators.base import FileGenerator, Generator, TableGenerator
from synthc.hints import did_you_mean
from synthc.outputs import enclosing
from synthc.outputs.webdataset import TarLayout
from synthc.shard import table_columns, table_rows

if TYPE_CHECKING:
    import polars as pl

#: samples per block for file generators (images, text lines): enough for a kernel batch to pay
#: off, few enough that a small split still feeds several workers
FILE_BLOCK = 256
#: rows per block (one DataFrame) for table generators
TABLE_BLOCK = 8192
#: environment variables a launcher such as ``torchrun`` sets in every process
RANK_VARIABLE = "RANK"
WORLD_SIZE_VARIABLE = "WORLD_SIZE"

#: what a stream yields: a file sample (``__key__`` and bytes per extension) or a block of rows
Item: TypeAlias = "dict[str, Any] | pl.DataFrame"


@dataclass(frozen=True)
class Share:
    """The part of an epoch one iterator takes: participant ``index`` of ``count``."""

    index: int
    count: int


def stream(
    spec: Path | str,
    split: str = "train",
    *,
    variables: Mapping[str, Any] | None = None,
    rank: int | None = None,
    world_size: int | None = None,
    fresh_epoch: int | None = None,
    worker: int | None = None,
    num_workers: int | None = None,
    block_size: int | None = None,
    allow_read: Iterable[Path | str] = (),
    templates: Path | str | None = None,
) -> Stream:
    """The samples of ``split`` of the spec at ``spec``, generated as they are iterated.

    ``rank``/``world_size`` default to the ``RANK``/``WORLD_SIZE`` environment (else 0 and 1);
    ``worker``/``num_workers`` default to ``torch.utils.data.get_worker_info()`` when torch is
    already imported and the iterator runs in a DataLoader worker (else 0 and 1).
    ``fresh_epoch=e`` yields the samples at indices ``e * samples + i`` instead of ``i`` (0: the
    built ones). ``block_size``: samples per block, exactly (default 256 files or 8192 rows, fewer
    when the split is too small to give every rank and worker one; :meth:`Stream.used_block_size`
    says how many). ``allow_read`` and ``templates`` as for a build.
    """
    with enclosing.compiling(spec):
        compiled = compile_spec(spec, variables, allow_read, templates)
    return Stream.of(
        compiled,
        split,
        rank=rank,
        world_size=world_size,
        fresh_epoch=fresh_epoch,
        worker=worker,
        num_workers=num_workers,
        block_size=block_size,
    )


class Stream:
    """One split's samples, made on the fly; iterate it once per epoch (see the module doc)."""

    def __init__(
        self,
        *,
        kind: str,
        config: Any,
        seed: int,
        samples: int,
        shard_size: int,
        split: str,
        split_range: tuple[int, int],
        read_roots: dict[str, list[str]],
        rank: int,
        world_size: int,
        worker: int | None = None,
        num_workers: int | None = None,
        block_size: int | None = None,
        fresh_epoch: int | None = None,
        columns: Sequence[str] | None = None,
    ) -> None:
        self.kind = kind
        #: the spec's output.columns: a table's columns kept, as in its shards
        self.columns = columns
        self.config = config
        self.seed = seed
        #: samples of the whole dataset (every split): one epoch's stride of indices
        self.dataset_samples = samples
        self._shard_size = shard_size
        self.split = split
        self.split_range = split_range
        self._read_roots = read_roots
        self.rank, self.world_size = ranks(rank, world_size)
        self._workers = _explicit_workers(worker, num_workers)
        explicit = _block_size(block_size)
        #: True when ``block_size`` was given: every block then holds exactly that many samples
        self.explicit_block_size = explicit is not None
        #: samples per block: the ``block_size`` given, else the generator kind's default (fewer
        #: if a block that large would not fit in memory); the most a block holds, see
        #: :meth:`used_block_size`
        self.block_size = self._fitting_block(explicit)
        self._check_every_rank_gets_a_block()
        self.fresh_epoch: int | None = None
        self._offset = 0
        self.set_epoch(fresh_epoch)

    @classmethod
    def of(
        cls,
        compiled: CompiledSpec,
        split: str = "train",
        *,
        rank: int | None = None,
        world_size: int | None = None,
        fresh_epoch: int | None = None,
        worker: int | None = None,
        num_workers: int | None = None,
        block_size: int | None = None,
    ) -> Stream:
        """The stream of ``split`` of a compiled spec (see :func:`stream`)."""
        spec = compiled.spec
        ranges = split_ranges(spec.splits, spec.sample_count)
        if split not in ranges:
            raise UsageError(
                f"no split {split!r} in the spec; it has {', '.join(ranges)}"
                + did_you_mean(split, ranges)
            )
        resolved_rank, resolved_world = ranks(rank, world_size)
        return cls(
            kind=spec.generator.kind,
            config=spec.generator,
            seed=spec.seed,
            samples=spec.sample_count,
            shard_size=largest_shard_size(spec),
            split=split,
            split_range=ranges[split],
            read_roots=compiled.read_roots,
            rank=resolved_rank,
            world_size=resolved_world,
            worker=worker,
            num_workers=num_workers,
            block_size=block_size,
            fresh_epoch=fresh_epoch,
            columns=spec.output.columns,
        )

    @property
    def generator(self) -> Generator[Any]:
        return generators.get(self.kind)

    @property
    def samples(self) -> int:
        """Samples of the split in one epoch, over every rank and worker."""
        return self.split_range[1] - self.split_range[0]

    @property
    def indices(self) -> range:
        """The global sample indices of this epoch of the split."""
        first, last = self.split_range
        return range(first + self._offset, last + self._offset)

    def set_epoch(self, fresh_epoch: int | None) -> None:
        """Make later iterations yield the fresh epoch ``fresh_epoch`` (None or 0: the built
        samples). Call it before the DataLoader starts an epoch's workers."""
        if fresh_epoch is not None:
            fresh_epoch = _check_int("fresh_epoch", fresh_epoch, 0)
        self._offset = epoch_offset(
            self.generator, self.config, self.dataset_samples, self._shard_size, fresh_epoch
        )
        self.fresh_epoch = fresh_epoch

    def share(self) -> Share:
        """This iterator's participant number and the participant count, from the rank, the
        world size and the worker (given, or DataLoader's)."""
        worker, workers = self._workers or torch_worker() or (0, 1)
        return Share(self.rank * workers + worker, self.world_size * workers)

    def used_block_size(self, share: Share | None = None) -> int:
        """Samples per block (the last one of the split may hold fewer) when the participants are
        ``share.count`` (default: this iterator's): ``block_size`` when it was given, else
        ``min(block_size, max(1, samples // participants))``."""
        share = share if share is not None else self.share()
        return block_length(self.samples, share.count, self.block_size, self.explicit_block_size)

    def blocks(self, share: Share | None = None) -> list[range]:
        """The index blocks ``share`` (default: this iterator's) yields, in order. ``share`` is
        participant ``rank * num_workers + worker`` of ``world_size * num_workers``."""
        share = share if share is not None else self.share()
        workers, remainder = divmod(share.count, self.world_size)
        if remainder or not 0 <= share.index < share.count:
            raise ValueError(f"{share} is no participant of world_size {self.world_size}")
        rank, worker = divmod(share.index, workers)
        length = self.used_block_size(share)
        return deal(self.indices, length, rank, self.world_size, worker, workers)

    def _fitting_block(self, explicit: int | None) -> int:
        """The block size asked for (``explicit``, else the kind's default) once a block of it is
        known to fit in memory as a shard of the build would (synthc.limits.MAX_BATCH_BYTES): a
        default that would not fit is made smaller, an explicit one is a UsageError."""
        wanted = explicit if explicit is not None else default_block(self.generator)
        largest = min(wanted, max(self.samples, 1))  # no block is longer than the split
        if largest <= self._shard_size or self._block_fits(largest):
            return wanted
        low, high = min(self._shard_size, largest), largest  # the build's shards fit: low fits
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (middle, high) if self._block_fits(middle) else (low, middle)
        if explicit is None:
            return max(low, 1)
        problem = self._block_problem(largest)
        raise UsageError(
            f"block_size={explicit:,}: a block is generated at once, as a build generates a "
            f"shard, and {problem}; use block_size <= {low:,}"
        )

    def _block_problem(self, block: int) -> str | None:
        """The build's memory problem for a shard of ``block`` samples, if it has one."""
        for path, message, *_ in self.config.size_problems(self.dataset_samples, block):
            if tuple(path) == ("output", "shard_size"):
                return str(message).split("; use output.shard_size")[0]
        return None

    def _block_fits(self, block: int) -> bool:
        return self._block_problem(block) is None

    def _check_every_rank_gets_a_block(self) -> None:
        """A rank with no samples while others have some would hang DDP's collectives: refuse
        the world size (or the explicit block size) that makes one, here, in every rank."""
        if self.explicit_block_size:
            blocks = -(-self.samples // self.block_size)
            if 0 < blocks < self.world_size:
                most = -(-self.samples // (self.world_size - 1)) - 1
                raise UsageError(
                    f"block_size={self.block_size:,} cuts split {self.split!r} ({self.samples:,} "
                    f"samples) into {blocks:,} block(s), fewer than world_size "
                    f"{self.world_size:,}, so some ranks would get no samples (DDP would hang "
                    f"waiting for them); use block_size <= {most:,}, or leave it out"
                )
        elif 0 < self.samples < self.world_size:
            raise UsageError(
                f"split {self.split!r} has {counted(self.samples, 'sample', grouped=True)}, "
                f"fewer than world_size {self.world_size:,}, so some ranks would get none (DDP "
                "would hang waiting for them); give every rank the whole split with world_size=1, "
                "rank=0, or make the split larger"
            )

    def __iter__(self) -> Iterator[Item]:
        import polars as pl

        inputs.use_roots(self._read_roots)  # a worker process finds the spec's files there
        generator = self.generator
        # checked as a build checks a shard (synthc.generator_output): GeneratorSlip otherwise
        related = bool(self.config.table_names())  # a related table is not streamed whole
        declared = [] if related else table_columns(self.kind, self.config, self.columns)
        for block in self.blocks():
            if isinstance(generator, FileGenerator):
                samples = generator.generate(self.config, self.seed, block.start, block.stop)
                layout = TarLayout.of_columns(block.start, len(block), declared)
                for key, files in checked_samples(samples, layout, self.kind):
                    yield {"__key__": key, **files}
            elif isinstance(generator, TableGenerator):
                rows = table_rows(
                    generator, self.config, self.seed, block.start, block.stop, self.columns
                )
                frame = pl.DataFrame(rows)  # as the Parquet writer frames a shard
                if not related:
                    check_frame(frame, declared, self.kind)
                yield frame
            else:
                raise TypeError(f"{self.kind}: a generator is a TableGenerator or a FileGenerator")

    def __repr__(self) -> str:
        epoch = "" if self.fresh_epoch is None else f", fresh_epoch={self.fresh_epoch}"
        return (
            f"Stream({self.kind}, split={self.split!r}, indices=[{self.indices.start}, "
            f"{self.indices.stop}), rank={self.rank}/{self.world_size}{epoch})"
        )


def block_length(samples: int, participants: int, block_size: int, explicit: bool) -> int:
    """Samples per block of a split of ``samples`` dealt to ``participants`` (ranks x workers):
    ``block_size`` when ``explicit``, else at most ``block_size`` and small enough that every
    participant gets a block when the split has at least one sample per participant."""
    if explicit:
        return block_size
    return min(block_size, max(1, samples // participants))


def deal(
    indices: range, length: int, rank: int, world_size: int, worker: int, num_workers: int
) -> list[range]:
    """The blocks of ``length`` consecutive indices of ``indices`` that ``worker`` of ``rank``
    yields, in order: block ``b`` goes to rank ``b % world_size``, and a rank's ``j``-th block to
    its worker ``j % num_workers``. Ranks get whole blocks in turn, so their sample counts differ
    by at most ``length``, whatever ``num_workers`` is; so do the workers of a rank."""
    starts = range(indices.start, indices.stop, length)
    mine = starts[rank::world_size][worker::num_workers]
    return [range(start, min(start + length, indices.stop)) for start in mine]


def ranks(rank: int | None, world_size: int | None) -> tuple[int, int]:
    """``(rank, world_size)``: as given, else from ``RANK``/``WORLD_SIZE``, else ``(0, 1)``."""
    if world_size is None:
        world_size = _environment_int(WORLD_SIZE_VARIABLE, 1)
    if rank is None:
        rank = _environment_int(RANK_VARIABLE, 0)
    world_size = _check_int("world_size", world_size, 1)
    rank = _check_int("rank", rank, 0)
    if rank >= world_size:
        raise UsageError(f"rank {rank} is outside [0, {world_size}) (world_size {world_size})")
    return rank, world_size


def torch_worker() -> tuple[int, int] | None:
    """``(worker id, number of workers)`` when torch is already imported and this runs in a
    DataLoader worker process; None otherwise. Never imports torch."""
    data = sys.modules.get("torch.utils.data")
    if data is None:
        data = getattr(getattr(sys.modules.get("torch"), "utils", None), "data", None)
    get_worker_info = getattr(data, "get_worker_info", None)
    info = get_worker_info() if callable(get_worker_info) else None
    if info is None:
        return None
    worker, workers = int(info.id), int(info.num_workers)
    if workers < 1 or not 0 <= worker < workers:
        raise UsageError(f"torch worker info: worker {worker} of {workers} is impossible")
    return worker, workers


def epoch_offset(
    generator: Generator[Any], config: Any, samples: int, shard_size: int, epoch: int | None
) -> int:
    """The first index of the fresh epoch ``epoch`` (``epoch * samples``), once it is known that
    the generator continues past ``samples`` and that its values stay in range up there."""
    if epoch is None:
        return 0
    epoch = _check_int("fresh_epoch", epoch, 0)
    if epoch == 0:
        return 0
    if not generator.continues:
        raise UsageError(
            f"fresh_epoch: the {generator.kind} generator's samples do not continue past the "
            "spec's samples, so it has no fresh epochs"
        )
    last = (epoch + 1) * samples
    if last > limits.MAX_SAMPLES:
        raise UsageError(
            f"fresh_epoch={epoch}: its indices reach {last:,}, over the limit of "
            f"{limits.MAX_SAMPLES:,} samples (synthc.limits.MAX_SAMPLES)"
        )
    known = list(config.size_problems(samples, shard_size))
    for problem in config.size_problems(last, shard_size):
        if problem not in known:  # a value that overflows only past the built samples
            raise UsageError(
                f"fresh_epoch={epoch}: indices up to {last:,}: "
                f"{format_path(problem[0])}: {problem[1]}"
            )
    return epoch * samples


def _explicit_workers(worker: int | None, num_workers: int | None) -> tuple[int, int] | None:
    if worker is None and num_workers is None:
        return None
    if worker is None or num_workers is None:
        raise UsageError("give worker and num_workers together (or neither: DataLoader's)")
    num_workers = _check_int("num_workers", num_workers, 1)
    worker = _check_int("worker", worker, 0)
    if worker >= num_workers:
        raise UsageError(f"worker {worker} is outside [0, {num_workers}) (num_workers)")
    return worker, num_workers


def default_block(generator: Generator[Any]) -> int:
    """Samples per block when none is given: FILE_BLOCK files, or TABLE_BLOCK rows."""
    return FILE_BLOCK if isinstance(generator, FileGenerator) else TABLE_BLOCK


def _block_size(block_size: int | None) -> int | None:
    if block_size is None:
        return None  # the generator kind's default
    return _check_int("block_size", block_size, 1)


def _check_int(name: str, value: object, least: int) -> int:
    """``value`` as an int: any integer (``operator.index`` takes it: int, NumPy integers) but
    a bool, at least ``least``; else a UsageError."""
    try:
        if isinstance(value, bool):  # NumPy's bool is refused by operator.index itself
            raise TypeError
        number = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise UsageError(
            f"{name} must be an integer >= {least}; {value!r:.40} is not an integer"
        ) from None
    if number < least:
        raise UsageError(f"{name} must be an integer >= {least}, not {number!r:.40}")
    return number


def _environment_int(name: str, default: int) -> int:
    text = os.environ.get(name)
    if text is None or not text.strip():
        return default
    try:
        return int(text.strip())
    except ValueError:
        raise UsageError(f"environment variable {name}={text!r:.40} is not an integer") from None
