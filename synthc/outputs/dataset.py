"""A built dataset opened for reading: ``synthc.open(DIR)``.

In: an output directory (untrusted: its manifest, shards and every path they name). Out: a
:class:`Dataset` with the ``manifest`` and one :class:`Split` per split: ``lazy()`` scans a
table's Parquet shards, ``samples()`` reads a file dataset's tars sample by sample, decoded or as
bytes. Paths come only from the manifest, relative and confined to the directory, so a dataset
copied or downloaded elsewhere opens the same. ``verify=True`` checks each shard's sha256; a
tar is read only as its manifest entry lays it out (outputs/webdataset.py), verify or not.
An object-store URL (``s3://bucket/prefix``) opens the same way through fsspec (tars are
streamed, Parquet shards fetched to a temporary folder when first scanned).
"""

from __future__ import annotations

import atexit
import io
import os
import shutil
import struct
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Literal, TypeVar

from synthc import limits
from synthc.digest import Hashing, handle_sha256
from synthc.errors import OutputError, UsageError, counted
from synthc.hints import did_you_mean, listed
from synthc.json_bounds import loads_strict, values_over_limit
from synthc.lazy import lazy_module
from synthc.outputs.confine import Confiner, file_kind, open_regular
from synthc.outputs.fetch_once import fetched, path_lock
from synthc.outputs.file_signature import (
    Signature,
    changed_since_opened,
    file_signature,
    signature_of,
)
from synthc.outputs.manifest import (
    MANIFEST_FILE,
    SHARD_SUFFIXES,
    read_manifest,
    read_store_manifest,
)
from synthc.outputs.parquet import (
    column_problem,
    footer_schema,
    for_polars,
    index_problem,
    polars_type,
)
from synthc.outputs.shard_scratch import scratch_path
from synthc.outputs.store import Store, is_store_url, local_path, open_store, url_problem
from synthc.outputs.verify import has_index, manifest_problems
from synthc.outputs.webdataset import TarLayout, read_tar_samples

if TYPE_CHECKING:
    import polars as pl

    from synthc.outputs import opened_frame as _opened_frame
else:
    _opened_frame = lazy_module("synthc.outputs.opened_frame")

ImageAs = Literal["pil", "numpy"]
T = TypeVar("T")
_IMAGE_EXTENSIONS = ("png", "jpg", "jpeg")


def open_dataset(out: Path | str, *, verify: bool = False, table: str | None = None) -> Dataset:
    """The built dataset in ``out``; ``verify=True`` makes every read check its shard's sha256
    (each call may override it). OutputError if the manifest is missing, malformed,
    inconsistent or names a path outside ``out``. With related tables, ``table`` chooses the
    table the splits read (default: the root table); UsageError for a dataset of one table."""
    problem = url_problem(out)
    if problem is not None:
        raise UsageError(problem)
    if isinstance(out, str) and is_store_url(out):
        directory = local_path(out)
        if directory is None:
            return _open_store(open_store(out), verify, table)
        out = directory
    root = Path(out)
    before = file_signature(root / MANIFEST_FILE)
    manifest = read_manifest(root)
    opened_as = file_signature(root / MANIFEST_FILE)
    # shards by absolute paths: a dataset pickled to a worker that starts elsewhere still reads
    # refusals name the manifest by its path: which of several opened datasets it is
    confine = Confiner(Path(os.path.abspath(root)), str(root / MANIFEST_FILE))
    dataset = _opened(
        root, str(root / MANIFEST_FILE), manifest, verify, lambda name: confine(name), table
    )
    files: dict[Signature, Shard] = {}
    for split in dataset.splits.values():
        for shard in split.shards:
            shard.manifest_seen = (root / MANIFEST_FILE, opened_as)
            shard.opened = file_signature(shard.path)
            if shard.opened is None:
                continue
            other = files.setdefault(shard.opened, shard)
            if other is not shard:  # polars read the same rows twice, without a word
                raise OutputError(
                    f"{shard.where}: is the file {other.where} is (a link to it, or of it); "
                    "each shard is a file of its own (synthc verify checks the whole dataset)"
                )
    # a build retracts the manifest before it changes a shard and writes a new one last: the
    # same manifest from before it was read until every shard was looked at is one whose
    # shards these are, not those of a rebuild that ran meanwhile
    if before is None or not before == opened_as == file_signature(root / MANIFEST_FILE):
        raise OutputError(
            f"{root / MANIFEST_FILE}: rewritten or removed while the dataset was opened (a "
            "build running?); open it again once the build is done"
        )
    return dataset


def _open_store(store: Store, verify: bool, table: str | None) -> Dataset:
    """A dataset on an object store: shards are streamed (tars) or fetched to a temporary
    folder the dataset owns (Parquet, for polars) when first read."""
    before = store.info(MANIFEST_FILE)
    manifest = read_store_manifest(store)
    # one listing (not an info per shard): each shard's object as it is now, which every read
    # checks it still is (its ETag, or what else the store reports); with the manifest read
    # before it still in place, these objects are its shards, not a rebuild's
    listed = store.listing()
    where = store.where(MANIFEST_FILE)
    if before is None or listed.get(MANIFEST_FILE) != before:
        raise OutputError(
            f"{where}: rewritten or removed while the dataset was opened (a build running?); "
            "open it again once the build is done"
        )
    # removed when the process exits, not with the dataset: a LazyFrame reads it later
    cache = scratch_path("open")  # named after this process: swept once it is killed
    atexit.register(shutil.rmtree, cache, ignore_errors=True)
    local = Confiner(Path(cache), MANIFEST_FILE)

    def place(name: object) -> Path:
        store.key(name, where)
        return local(name)

    dataset = _opened(store.url, where, manifest, verify, place, table)
    for split in dataset.splits.values():
        for shard in split.shards:
            shard.store = store
            found = listed.get(shard.name)
            shard.opened_stamp = None if found is None else found["stamp"]
    return dataset


def _opened(
    root: Path | str,
    where: str,
    manifest: dict[str, Any],
    verify: bool,
    place: Callable[[object], Path],
    table: str | None,
) -> Dataset:
    problems = manifest_problems(manifest)
    if problems:
        more = f" (and {len(problems) - 1} more; synthc verify lists them)" if problems[1:] else ""
        raise OutputError(f"{where}: {problems[0]}{more}")
    schema = manifest.get("schema")
    kind = schema.get("format") if isinstance(schema, dict) else None
    if kind not in SHARD_SUFFIXES:
        raise OutputError(f"{where}: schema.format {kind!r} is not one synthc reads")
    assert isinstance(schema, dict) and isinstance(kind, str)
    columns = schema.get("columns")
    tables = schema.get("tables")
    if table is not None or tables:
        table, columns = _chosen_table(root, tables, table)
    splits: dict[str, Split] = {}
    for name, entry in manifest["splits"].items():
        shards = []
        samples = entry["samples"]
        if table is not None:
            samples = entry["tables"][table]["samples"]
        for shard in entry["shards"]:
            if shard.get("table") != table:
                continue
            path = place(shard["path"])
            if path.suffix != SHARD_SUFFIXES[kind]:
                raise OutputError(f"{where}: shard {shard['path']!r} is not a {kind} shard")
            found = Shard(shard["path"], path, shard["bytes"], shard["sha256"])
            found.rows = (shard["first_sample"], shard["samples"])
            if kind == "webdataset":
                found.layout = TarLayout.of(shard, schema)
            shards.append(found)
        known = columns if isinstance(columns, list) else []
        splits[name] = Split(name, kind, samples, shards, known, verify)
        splits[name].root = str(root)
    filled = next((split.shards[0] for split in splits.values() if split.shards), None)
    for split in splits.values():
        if not split.shards and kind == "parquet":
            split.schema_shard = filled
    return Dataset(root, manifest, splits)


def _chosen_table(root: Path | str, tables: Any, table: str | None) -> tuple[str, Any]:
    """The table to read of a dataset of related tables and its columns (default: the root)."""
    if not isinstance(tables, dict) or not tables:
        raise UsageError(
            f"{root}: table={table!r:.80}: this dataset has one table (open it without)"
        )
    chosen = next(iter(tables)) if table is None else table
    if not isinstance(chosen, str):  # a list was a TypeError of dict's ("unhashable type")
        names = listed(tables)
        raise UsageError(f"{root}: table={chosen!r:.80}: give a table's name, one of {names}")
    if chosen not in tables:
        hint = did_you_mean(chosen, list(tables))
        raise UsageError(f"{root}: no table {chosen!r}{hint}; its tables are {listed(tables)}")
    return chosen, tables[chosen]


class Shard:
    """One shard file: its path as the manifest names it, where it is, its size and sha256.

    A shard of a dataset on an object store has a ``store``; its ``path`` is where it is
    fetched to (in a temporary folder removed at exit) when a reader needs a local file."""

    def __init__(self, name: str, path: Path, size: int, sha256: str) -> None:
        self.name = name
        self.path = path
        self.size = size
        self.sha256 = sha256
        self.store: Store | None = None
        #: a tar shard's samples and files, as the manifest records them (None: a table)
        self.layout: TarLayout | None = None
        #: the rows its manifest entry records: ``(first_sample, samples)``
        self.rows = (0, 0)
        #: the size, modification time and inode of the local file when last hashed and found
        #: the manifest's (:meth:`checked`)
        self._verified: Signature | None = None
        #: a local dataset's manifest and its signature when it was opened: a shard that
        #: cannot be read once the manifest changed was removed by a rebuild
        self.manifest_seen: tuple[Path, Signature | None] | None = None
        #: a local dataset's: the shard file's signature when the dataset was opened (None: no
        #: file); every read refuses a file that is not that one (:meth:`as_opened`)
        self.opened: Signature | None = None
        #: a store dataset's: the shard object's stamp (ETag, else modification time and size)
        #: when the dataset was opened (None: no object); every read refuses another object
        self.opened_stamp: str | None = None

    def as_opened(self, now: Signature | None) -> None:
        """OutputError (the dataset changed since it was opened) unless ``now``, the signature
        of the shard's local file (None: gone), is the one it had when its dataset was opened:
        a rebuild or a copy over it since would be read with the other shards' rows."""
        if self.manifest_seen is not None and now != self.opened:
            raise changed_since_opened(self.manifest_seen[0].parent, self.where, self.opened, now)

    def still_as_opened(self, handle: BinaryIO) -> None:
        """:meth:`as_opened` of the shard's local file open as ``handle``: one rewritten while
        it is read is refused (one renamed over it is not: ``handle`` reads the file opened).
        A store's stream is not checked."""
        if self.store is None:
            self.as_opened(signature_of(os.fstat(handle.fileno())))

    def rebuilt(self, error: OSError) -> OutputError | None:
        """The error that says the dataset changed since it was opened, when ``error`` (reading
        this shard) came after its manifest changed (a rebuild), else None."""
        if self.manifest_seen is None:
            return None
        manifest, seen = self.manifest_seen
        if seen is not None and file_signature(manifest) == seen:
            return None
        return OutputError(
            f"{manifest.parent}: the dataset changed since it was opened ({self.where}: "
            f"{error.strerror or error}; its manifest.json was rewritten or removed since, a "
            "rebuild?); open it again with synthc.open"
        )

    @property
    def where(self) -> str:
        """The shard's file or URL, for messages."""
        return self.store.where(self.name) if self.store is not None else str(self.path)

    def local(self) -> Path:
        """A local file of the shard: its own, or (on a store) a fetched copy, fetched once
        however many threads and processes read it at once (outputs/fetch_once.py), and only
        when the object has the manifest's size (a swapped-in giant is never downloaded)."""
        store = self.store
        if store is None:
            return self.path

        def fetch() -> None:
            self._check_object_size(store)
            store.download(self.name, self.path, self.size)
            try:  # an object replaced while it was downloaded is not kept
                self._check_object_size(store)
            except BaseException:
                self.path.unlink(missing_ok=True)
                raise

        return fetched(self.path, fetch)

    def open(self, sized: bool = False) -> BinaryIO:
        """The shard opened for reading (streamed from a store, if its object has the
        manifest's size); OutputError if it cannot be, or if its file is not a regular file
        (a FIFO or device is never read), or (``sized``) not of the manifest's size."""
        if self.store is not None:
            self._check_object_size(self.store)
            return self.store.open(self.name, self.size)
        try:
            handle = open_regular(self.path)
        except OSError as error:
            self.as_opened(None)
            raise self.rebuilt(error) or OutputError(
                f"{self.path}: unreadable ({error.strerror or error})"
            ) from None
        try:
            self.still_as_opened(handle)
            if sized:
                self._check_size(os.fstat(handle.fileno()).st_size)
        except BaseException:
            handle.close()
            raise
        return handle

    def _check_size(self, size: int) -> None:
        if size != self.size:
            raise OutputError(
                f"{self.where}: {counted(size, 'byte')}, the manifest says {self.size} "
                "(a changed or damaged shard; synthc verify checks the whole dataset)"
            )

    def _check_object_size(self, store: Store) -> None:
        info = store.info(self.name)
        if info is None:
            raise OutputError(f"{self.where}: missing from the store")
        if self.opened_stamp is not None and info["stamp"] != self.opened_stamp:
            raise changed_since_opened(store.url, self.where, self.opened_stamp, info["stamp"])
        if info["size"] != self.size:
            raise OutputError(
                f"{self.where}: {counted(info['size'], 'byte')}, the manifest says {self.size}"
            )

    def check(self, size: int, digest: str) -> None:
        """OutputError naming the shard unless ``size`` and ``digest`` are the manifest's."""
        self._check_size(size)
        if digest != self.sha256:
            raise OutputError(
                f"{self.where}: sha256 {digest[:16]}… does not match the manifest "
                "(a changed or damaged shard; synthc verify checks the whole dataset)"
            )

    def regular(self) -> Path:
        """The local file (:meth:`local`), unless it is there and is not a regular file: a
        reader of a FIFO would wait for ever, of a device read without end (OutputError);
        or is not of the manifest's size, as a store's object is refused: polars would read a
        cut or swapped shard without naming it, or give another shard's rows."""
        path = self.local()
        try:
            found = os.stat(path)
        except OSError as error:
            self.as_opened(None)
            rebuilt = self.rebuilt(error)
            if rebuilt is not None:
                raise rebuilt from None
            return path  # the reader says it is missing, as it would have
        self.as_opened(signature_of(found))
        what = file_kind(found.st_mode)
        if what is not None:
            raise OutputError(f"{self.where}: is not a regular file ({what})")
        self._check_size(found.st_size)
        return path

    def verify(self) -> None:
        """Hash the whole file and check it (for readers that read the file themselves); a
        file that is not regular or not of the manifest's size is refused before any read."""
        try:
            if self.store is not None:
                handle = open_regular(self.local(), self.size)
            else:
                handle = self.open(sized=True)  # the file open found, or OutputError
            with handle:
                found = os.fstat(handle.fileno())
                digest = handle_sha256(handle)
            self.check(found.st_size, digest)
        except OSError as error:
            raise self.rebuilt(error) or OutputError(
                f"{self.where}: unreadable ({error.strerror or error})"
            ) from None
        self._verified = signature_of(found)

    def checked(self) -> Path:
        """The local file, hashed and checked (:meth:`verify`) the first time, and again only
        once it has changed (another size, modification time or inode)."""
        path = self.local()
        with path_lock(path):
            try:
                found = path.stat()
                unchanged = self._verified == signature_of(found)
            except OSError:
                unchanged = False  # verify says why
            if not unchanged:
                self.verify()
        return path


class Split:
    """One split of an opened dataset: ``lazy()`` for tables, ``samples()`` for files."""

    def __init__(
        self,
        name: str,
        kind: str,
        samples: int,
        shards: list[Shard],
        columns: list[Any],
        verify: bool = False,
    ) -> None:
        self.name = name
        #: the shard format, "parquet" or "webdataset"
        self.format = kind
        self.num_samples = samples
        self.shards = shards
        self._columns = columns
        self.verify = verify
        #: a shard of another split whose Parquet schema an empty split takes (its dtypes are
        #: exact: an enum's categories, float32; the manifest names only kinds)
        self.schema_shard: Shard | None = None
        #: the dataset's directory or URL, for messages
        self.root = ""

    @property
    def paths(self) -> list[Path]:
        """The shard files in order (for readers of your own: polars, webdataset, datasets);
        on an object store, each is fetched to a temporary folder first. With ``verify`` each
        is checked as ``lazy()`` checks it, the first time (OutputError naming it)."""
        if self.verify:
            return [shard.checked() for shard in self.shards]
        return [shard.regular() for shard in self.shards]

    def __len__(self) -> int:
        return self.num_samples

    def __repr__(self) -> str:
        return (
            f"Split({self.name!r}, {counted(self.num_samples, 'sample')} in "
            f"{counted(len(self.shards), 'shard')})"
        )

    def lazy(self, *, verify: bool | None = None) -> pl.LazyFrame:
        """A polars LazyFrame over the split's Parquet shards, in order. With ``verify`` every
        shard's sha256 is checked now, before the frame is returned (polars reads the files)."""
        import polars as pl

        if self.format != "parquet":
            raise UsageError(
                f"split {self.name!r} holds WebDataset tars, not a table: use .samples()"
            )
        if self.verify if verify is None else verify:
            for shard in self.shards:
                shard.verify()
                _check_columns(shard, self._columns)
        if not self.shards:
            if self.schema_shard is not None:
                checked = self.verify if verify is None else verify
                shard = self.schema_shard
                path = shard.checked() if checked else shard.regular()
                return pl.LazyFrame(schema=_footer(shard, lambda: footer_schema(path)))
            return pl.LazyFrame(schema=self._empty_schema())
        paths = [for_polars(shard.regular()) for shard in self.shards]
        if self.shards[0].store is not None:
            return pl.scan_parquet(paths, glob=False)  # fetched copies, which no rebuild changes
        # each shard read only while it is the file synthc.open found (opened_frame.py); its
        # columns from the first shard's footer now, as polars would when collecting (an
        # error there came wrapped in "schema callable failed")
        first = self.shards[0]
        schema = _footer(first, lambda: footer_schema(first.path))
        seen = [(s.where, s.path, s.opened) for s in self.shards]
        return _opened_frame.opened_frame(self.root, paths, seen, schema)

    def samples(
        self, decode: bool = True, *, image: ImageAs = "pil", verify: bool | None = None
    ) -> Iterator[dict[str, Any]]:
        """The split's samples in order as ``{"__key__": key, extension: value}``.

        ``decode``: an image as a PIL image (``image="numpy"``: a NumPy array), ``.json``
        parsed, ``.txt`` as str, ``.cls`` as int, other files as bytes; ``decode=False``: every
        file as the bytes the tar holds (what ``synthc.stream`` yields). A tar whose members
        are not the samples its manifest entry records (a member out of place or not one of the
        schema's files, a sample without one, fewer samples) raises OutputError naming it (and
        the member), before its last sample and any of the next shard's. ``verify``: hash each
        shard as it is read; a shard whose bytes are not the manifest's raises OutputError
        naming it once its last byte is read, before any sample of the next shard.
        """
        if self.format != "webdataset":
            raise UsageError(f"split {self.name!r} is a table: use .lazy() (a polars LazyFrame)")
        if image not in ("pil", "numpy"):
            raise UsageError(f"image must be 'pil' or 'numpy', not {image!r:.40}")
        check = self.verify if verify is None else verify
        for shard in self.shards:
            for key, files in _tar_samples(shard, check):
                if decode:
                    files = {
                        ext: _decode(shard, key, ext, data, image) for ext, data in files.items()
                    }
                yield {"__key__": key, **files}

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return self.samples()

    def _empty_schema(self) -> dict[str, Any]:

        schema: dict[str, Any] = {}
        for column in self._columns:
            if isinstance(column, dict) and isinstance(column.get("name"), str):
                schema[column["name"]] = _polars_type(str(column.get("dtype")))
        return schema


class Dataset:
    """A built dataset: its ``manifest`` and its ``splits`` by name (``dataset["train"]``)."""

    def __init__(
        self, path: Path | str, manifest: dict[str, Any], splits: dict[str, Split]
    ) -> None:
        self.path = path
        self.manifest = manifest
        self.splits = splits

    @property
    def name(self) -> str:
        dataset = self.manifest.get("dataset")
        return str(dataset.get("name", "")) if isinstance(dataset, dict) else ""

    def __getitem__(self, split: str) -> Split:
        # a name only: a list or a slice (dataset[0:2]) is no key, not a TypeError of dict's
        if not isinstance(split, str) or split not in self.splits:
            raise UsageError(
                f"{self.path}: no split {split!r:.80}; it has {listed(self.splits)}"
                + (did_you_mean(split, self.splits) if isinstance(split, str) else "")
            )
        return self.splits[split]

    # a mapping of split names, as ``splits``: without these, ``"val" in dataset`` and
    # ``list(dataset)`` fell back to ``dataset[0]`` ("no split 0")
    def __contains__(self, split: object) -> bool:
        return isinstance(split, str) and split in self.splits

    def __iter__(self) -> Iterator[str]:
        return iter(self.splits)

    def __len__(self) -> int:
        return len(self.splits)

    def __repr__(self) -> str:
        parts = ", ".join(f"{name}: {len(split)}" for name, split in self.splits.items())
        return f"Dataset({str(self.path)!r}, {self.name!r}, {{{parts}}})"


def _check_columns(shard: Shard, columns: list[Any]) -> None:
    """OutputError naming the Parquet ``shard`` (hashed and found the manifest's) unless its
    footer holds the manifest's ``columns``, as ``synthc verify`` checks it: polars reads a
    split's shards as one table, and would fail on one of other columns when collecting; and
    unless its ``index`` column holds the rows its manifest entry records (a shard copied over
    another would give that shard's rows under their indices, or the same rows twice)."""
    path = shard.local()
    problem = _footer(
        shard,
        lambda: (
            column_problem(path, columns)
            or (index_problem(path, *shard.rows) if has_index(columns) else None)
        ),
    )
    if problem is not None:
        raise OutputError(f"{shard.where}: {problem}")


def _footer(shard: Shard, read: Callable[[], T]) -> T:
    """``read()`` of the Parquet ``shard``'s footer; OutputError naming the shard when polars
    cannot read it (a file that is no Parquet, whatever its sha256)."""
    try:
        return read()
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as error:  # polars' errors, and its panics (BaseException)
        text = str(error).strip().splitlines()
        raise OutputError(
            f"{shard.where}: unreadable: {text[0] if text else type(error).__name__}"
        ) from None


def _tar_samples(shard: Shard, verify: bool) -> Iterator[tuple[str, dict[str, bytes]]]:
    """``(key, {extension: bytes})`` per sample of a tar read front to back, as
    :func:`read_tar_samples` allows them, each only once the file is found to be still the one
    ``synthc.open`` found (a local dataset's: not rewritten while it was read); with
    ``verify`` a file of another size than the manifest's is refused at once, and the bytes
    read are hashed and checked before the last sample is yielded."""
    assert shard.layout is not None  # a tar shard's
    handle = shard.open(sized=verify)
    with handle:
        source: Any = Hashing(handle) if verify else handle
        samples = read_tar_samples(source, shard.layout, shard.where)
        last: tuple[str, dict[str, bytes]] | None = None
        for sample in samples:
            shard.still_as_opened(handle)
            if not verify:
                yield sample
                continue
            if last is not None:
                yield last
            last = sample
        if verify:
            digest = source.finish()  # the end-of-archive padding counts too
            shard.check(source.count, digest)
            shard.still_as_opened(handle)
            if last is not None:
                yield last


#: what PIL (and json, int) raise for bytes that are not what their extension says: a damaged
#: PNG raises SyntaxError ("broken PNG file") or struct.error from its chunk reader
_UNDECODABLE = (
    ValueError,
    RecursionError,
    OSError,
    SyntaxError,
    struct.error,
    EOFError,
    IndexError,
    TypeError,
    ZeroDivisionError,
)


def _decode(shard: Shard, key: str, ext: str, data: bytes, image: ImageAs) -> Any:
    """A member's value by its extension; OutputError naming the shard and member if it is not
    what its extension says."""
    from PIL import Image

    try:
        if ext in _IMAGE_EXTENSIONS:
            return _image(data, image)
        if ext == "json":  # counted first, as a manifest's are: a member may be 1 GiB
            count = values_over_limit(data)
            if count is not None:
                raise ValueError(
                    f"about {count:,} JSON values, over the limit of {limits.MAX_JSON_VALUES:,} "
                    "(synthc.limits.MAX_JSON_VALUES)"
                )
            return loads_strict(data)
        if ext == "txt":
            return data.decode("utf-8")
        if ext == "cls":
            text = data.decode("ascii").strip()
            if not text.lstrip("-").isdigit():
                raise ValueError(f"{text[:40]!r} is not an integer")
            return int(text)
    except (*_UNDECODABLE, Image.DecompressionBombError) as error:
        raise OutputError(f"{shard.where}: {key}.{ext}: cannot decode: {error}") from None
    return data


def _image(data: bytes, image: ImageAs) -> Any:
    import numpy as np
    from PIL import Image

    with warnings.catch_warnings():
        # synthc's own limit below refuses what Pillow would only warn of, on stderr
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        opened = Image.open(io.BytesIO(data))
    with opened:
        width, height = opened.size  # from the header: refuse a bomb before decoding it
        if width * height > limits.MAX_IMAGE_PIXELS:
            raise ValueError(
                f"{width} x {height} pixels, over synthc.limits.MAX_IMAGE_PIXELS "
                f"({limits.MAX_IMAGE_PIXELS})"
            )
        opened.load()
        return np.asarray(opened) if image == "numpy" else opened.copy()


def _polars_type(dtype: str) -> Any:
    """The polars type of a manifest column's dtype, for the schema of a split without shards
    (Null for a dtype synthc does not write, and for ``enum``: its categories are not known)."""
    import polars as pl

    found = polars_type(dtype)
    return pl.Null if found is None or found is pl.Enum else found
