"""Outputs on an object store: an fsspec URL (``s3://bucket/prefix``, ``gs://``, ``az://``).

A :class:`Store` is the output location of a build that is not a local directory: the few
operations the driver, the workers and the readers need (list, read, write one object whole,
upload a finished file, download, delete, open for reading). Every name is a relative key under
the prefix, checked like a path in an output directory (outputs/confine.py): the state and the
manifest naming them are untrusted. ``file://`` URLs are local directories (see
:func:`local_path`) and keep the local code paths. Credentials come from where fsspec finds
them (for S3: ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_ENDPOINT_URL``, fsspec's
config); :attr:`Store.url`, the only spelling synthc prints or records, carries none.
"""

from __future__ import annotations

import functools
import json
import os
import secrets
import socket
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from synthc.errors import OutputError, UsageError, counted, one_line
from synthc.json_bounds import loads_strict
from synthc.outputs.confine import confined_name
from synthc.outputs.s3_session import no_continue_session
from synthc.outputs.state import STATE_DIR
from synthc.outputs.store_bounds import bound_azure, endpoint, gcs_options
from synthc.outputs.store_config import check_fsspec_config, config_kwargs_problem
from synthc.secret_text import AZURE_SCHEMES, host_of, masked, secret_parts

#: fsspec protocols and the package (and synthc extra) each needs
_PACKAGES: dict[str, tuple[str, str]] = {
    "s3": ("s3fs", "synthc[s3]"),
    "s3a": ("s3fs", "synthc[s3]"),
    "gs": ("gcsfs", "synthc[gcs]"),
    "gcs": ("gcsfs", "synthc[gcs]"),
    "az": ("adlfs", "synthc[azure]"),
    "abfs": ("adlfs", "synthc[azure]"),
    "abfss": ("adlfs", "synthc[azure]"),
}
#: the URL schemes an output may have: the object stores above and local directories
SCHEMES = (*_PACKAGES, "file")
#: protocols whose URLs hold no ``user:secret@`` (s3fs and gcsfs would take it as part of the
#: bucket's name; az:// and abfs:// use ``container@account``)
_NO_USER_INFO = {"s3", "s3a", "gs", "gcs"}
#: how long one S3 request may take and how often botocore retries it (one retry, standard
#: mode), unless the user configures them (see :func:`_bounded_requests`): with botocore's and
#: s3fs's defaults (5 attempts inside 5 retries, 15 s each) a server that accepts connections
#: but never answers kept ``synthc verify`` silent for minutes; now a request fails within
#: S3FS_RETRIES x 2 attempts x 15 s, about a minute, and says so in one line
S3_REQUESTS: dict[str, Any] = {
    "connect_timeout": 5,
    "read_timeout": 15,
    "retries": {"total_max_attempts": 2, "mode": "standard"},
}
#: s3fs's own attempts at each call (its default 5), each making botocore's
S3FS_RETRIES = 2
_S3 = ("s3", "s3a")
_AZURE = AZURE_SCHEMES
#: what an Azure prefix may not hold: adlfs parses every key as a URL, where '[' ']' mean an
#: IPv6 host and ':' a port, and the Blob service (Azurite, at least) stores '\' as '/'
_NOT_ON_AZURE = "[]:\\"
#: the lock object a build holds while it writes a store (see docs/storage.md)
LOCK_NAME = f"{STATE_DIR}/lock"
#: the largest lock object synthc reads (what it writes is a few hundred bytes)
MAX_LOCK_BYTES = 4096
#: the key of a store shard's record that carries the stamp its worker's store gave the
#: object after the upload (the driver checks its own store agrees: store_state.record_shard)
UPLOADED = "uploaded_stamp"


class StoreError(OutputError):
    """An object store refused or failed an operation (named by its credential-free URL)."""

    #: the store library's exception, when there was one
    cause: BaseException | None = None

    def unanswered(self) -> bool:
        """True if the store did not answer (a timeout, a refused or lost connection): asking
        it again would only wait as long once more."""
        kinds = type(self.cause).__mro__ if self.cause is not None else ()
        return any("Timeout" in kind.__name__ or "Connect" in kind.__name__ for kind in kinds)


class ReplacedObject(OutputError):
    """An object is not of the size it was listed with: replaced since (a download of it
    stopped before it went past that size)."""


class _OverSize(Exception):
    """Raised from a download's progress callback: the object is not of the expected size."""

    def __init__(self, found: str) -> None:
        super().__init__(found)
        self.found = found


def _bounded(expected: int) -> Any:
    """An fsspec callback for a download of an object of ``expected`` bytes: it raises
    :class:`_OverSize` when the store reports another size (s3fs, gcsfs and adlfs report it
    before the body is read) or once more bytes than that arrive."""
    from fsspec.callbacks import Callback

    class Bounded(Callback):
        def call(self, hook_name: str | None = None, **kwargs: Any) -> None:
            if self.size is not None and self.size != expected:
                raise _OverSize(counted(self.size, "byte"))
            if self.value > expected:
                raise _OverSize(f"over {counted(expected, 'byte')}")
            super().call(hook_name, **kwargs)

    return Bounded()


def is_store_url(text: str | os.PathLike[str]) -> bool:
    """True if ``text`` is a URL ``scheme://...`` (``file://`` included), not a plain path."""
    if not isinstance(text, str):
        return False
    scheme, sep, _ = text.partition("://")
    return bool(sep) and len(scheme) > 1 and scheme.replace("+", "").isalnum()


def one_slash_url(text: str) -> str | None:
    """The store URL meant by ``text`` when it was typed with one slash after a scheme synthc
    takes (``s3:/bucket/prefix`` for ``s3://bucket/prefix``), else None: read as a path, it
    would be a local directory named ``s3:``."""
    scheme, colon, rest = text.partition(":/")
    if not colon or rest.startswith("/") or scheme.lower() not in SCHEMES:
        return None
    # file:/data/x is file:///data/x (an empty host), not the host data
    return f"{scheme}:///{rest}" if scheme.lower() == "file" else f"{scheme}://{rest}"


def url_problem(text: str | os.PathLike[str]) -> str | None:
    """Why ``text`` cannot name an output, when it has ``://``: a URL :func:`is_store_url` does
    not take (fsspec's chained ``simplecache::s3://...``: a URL typed wrong, not the name of a
    directory to create), one with a query or fragment (fsspec would make them part of every
    object's key) or, but for ``file://``, a control character (``urlsplit`` drops tabs and
    newlines from what is printed). Said with the URL's secret parts left out. None for
    anything else."""
    if not isinstance(text, str) or "://" not in text:
        return None
    control = _control_character(text)
    if control is not None and text.partition("://")[0].lower() != "file":
        return (
            f"{public_url(_escaped(text))}: a store URL may not hold the control character "
            f"{control} (URL parsers drop tabs and newlines, so the keys written would not be "
            "the prefix printed and recorded)"
        )
    if not is_store_url(text):
        return (
            f"{public_url(text)}: neither a directory nor a URL synthc can use (one scheme, as in "
            "s3://bucket/prefix; chained URLs such as simplecache::s3://... are not supported)"
        )
    scheme, _, rest = text.partition("://")
    unknown = _scheme_problem(scheme)
    if unknown is not None:  # said with the scheme as given (urlsplit lowers it)
        return f"{scheme}{public_url(text)[len(scheme) :]}: {unknown}"
    host = rest.partition("/")[0]
    if (scheme.lower() in _NO_USER_INFO and "@" in host) or _slashed_password(scheme, rest):
        return (
            f"{public_url(text)}: {scheme}:// takes no credentials in the URL (user:secret@): "
            "they come from the environment or fsspec's configuration (docs/storage.md)"
        )
    if ":" in host and scheme.lower() != "file":
        return (
            f"{public_url(text)}: {host!r} is no {_bucket_word(scheme)} name (none holds ':'); "
            f"a store URL names the {_bucket_word(scheme)} and the prefix "
            f"({scheme}://{_bucket_word(scheme)}/prefix), and the endpoint comes from the "
            f"environment ({_ENDPOINT_SETTING.get(scheme.lower(), 'AWS_ENDPOINT_URL')}) or "
            "fsspec's configuration (docs/storage.md)"
        )
    if "?" in text or "#" in text:
        return (
            f"{public_url(text)}: a store URL takes no query (?...) or fragment (#...), which "
            "would become part of every object's key: credentials and options come from the "
            "environment or fsspec's configuration (docs/storage.md)"
        )
    if scheme.lower() in _AZURE:
        odd = sorted({f"'{char}'" for char in rest.partition("/")[2] if char in _NOT_ON_AZURE})
        if odd:
            return (
                f"{public_url(text)}: an {scheme}:// prefix may not hold "
                f"{' or '.join(odd)}: adlfs parses every key as a URL "
                "(a '[' or ':' breaks it) and the Blob service (Azurite, at least) stores '\\' "
                "as '/'; S3 and GCS take such prefixes"
            )
    segment = _odd_segment(rest) if scheme.lower() != "file" else None
    if segment is not None:  # file:// is a local path, which the system resolves
        return (
            f"{public_url(text)}: a store URL's path may not hold {segment}, which an object "
            "store would keep in every key (s3://b//p writes keys '/p/...', s3://b/a/../p "
            "keys 'a/../p/...'): give the prefix as plain names, as in s3://bucket/a/b"
        )
    return None


#: where each store's library takes an endpoint of the user's own (an emulator, MinIO)
_ENDPOINT_SETTING = {
    "gs": "STORAGE_EMULATOR_HOST",
    "gcs": "STORAGE_EMULATOR_HOST",
    "az": "AZURE_STORAGE_CONNECTION_STRING",
    "abfs": "AZURE_STORAGE_CONNECTION_STRING",
    "abfss": "AZURE_STORAGE_CONNECTION_STRING",
}


def _bucket_word(scheme: str) -> str:
    """What the first part of a ``scheme://`` URL names: a bucket, or Azure's container."""
    return "container" if scheme.lower() in _AZURE else "bucket"


def _scheme_problem(scheme: str) -> str | None:
    """Why ``scheme`` names no output synthc can use (not one of :data:`SCHEMES`, or one
    not in lower case, which fsspec does not know), or None."""
    lowered = scheme.lower()
    if lowered == "memory":
        return (
            "memory:// is one process's memory, which worker processes do not share and which "
            "is gone when the process ends: use a directory or an object store"
        )
    if lowered not in SCHEMES:
        return (
            f"synthc keeps datasets at {', '.join(f'{name}://' for name in SCHEMES)} URLs "
            f"only, not {scheme}:// (docs/storage.md)"
        )
    if scheme != lowered:
        return f"write the scheme in lower case, {lowered}:// (fsspec knows no {scheme}://)"
    return None


def _is_control(char: str) -> bool:
    """True for a C0 control character, DEL or a C1 control character."""
    return ord(char) < 0x20 or 0x7F <= ord(char) <= 0x9F


def _control_character(text: str) -> str | None:
    """The first control character in ``text``, escaped (``'\\t'``), or None."""
    found = next((char for char in text if _is_control(char)), None)
    return None if found is None else repr(found)


def _escaped(text: str) -> str:
    """``text`` with each control character escaped as Python writes it (``\\t``, ``\\x85``)."""
    return "".join(repr(char)[1:-1] if _is_control(char) else char for char in text)


def _odd_segment(rest: str) -> str | None:
    """What in the part of a store URL after ``scheme://`` is no plain name: an empty part
    (``//``), ``.`` or ``..``; None if each part is a name. Trailing slashes are fine
    (``s3://bucket/prefix/`` is ``s3://bucket/prefix``), and ``s3://`` alone is left to
    :func:`open_store` (it names no bucket)."""
    rest = rest.rstrip("/")
    for part in rest.split("/") if rest else []:
        if part == "":
            return "an empty part (//)"
        if part in (".", ".."):
            return f"a {part!r} part"
    return None


def local_path(url: str) -> Path | None:
    """The directory a ``file://`` URL names (``file:///abs`` or ``file://rel``), else None."""
    if not url.startswith("file://"):
        return None
    problem = url_problem(url)
    if problem is not None:
        raise UsageError(problem)
    rest = url[len("file://") :]
    if rest.startswith("localhost/"):
        rest = rest[len("localhost") :]
    if not rest:
        raise UsageError(f"{url}: names no directory")
    return Path(rest)


def _slashed_password(scheme: str, rest: str) -> bool:
    """True if ``rest`` (a store URL after ``scheme://``) holds ``user:password@`` whose
    password has a ``/`` (AWS secret keys often do): the host then seems to end at that ``/``,
    and the password's second half to start the path. No bucket or container name holds ``:``
    (a ``file://`` URL is a local path, which may)."""
    return scheme.lower() != "file" and ":" in rest.partition("/")[0] and "@" in rest


def public_url(url: str) -> str:
    """``url`` without ``user:password@`` (a password holding ``/`` too), query or fragment:
    what synthc prints and records (each URL of a chained ``a::b://...`` alike)."""
    if "::" in url:
        return "::".join(public_url(part) if "://" in part else part for part in url.split("::"))
    scheme, sep, rest = url.partition("://")
    if sep and _slashed_password(scheme, rest):
        url = f"{scheme}://{rest.rpartition('@')[2]}"
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.split("?", 1)[0].split("#", 1)[0]
    text = f"{parts.scheme}://{host_of(parts.scheme, parts.netloc)}{parts.path}"
    while text.endswith("/") and not text.endswith("://"):
        text = text[:-1]
    return text


class Store:
    """One output prefix on an fsspec file system; keys are relative names under it.

    :attr:`fs` is made anew in a process other than the one that made it (a forked or spawned
    DataLoader worker): s3fs, gcsfs and adlfs instances are bound to their maker's event loop.
    A pickled store carries how to make it, not the file system."""

    def __init__(self, url: str, fs: Any, root: str) -> None:
        #: the URL as given (workers open the store from it; never printed)
        self.given = url
        #: the URL without credentials, query or fragment (printed, recorded)
        self.url = public_url(url)
        self.root = root.rstrip("/")
        #: the file system's class, arguments and options (fsspec's own record of them)
        self._recipe = (type(fs), fs.storage_args, fs.storage_options)
        self._fs: Any = fs
        self._pid: int | None = os.getpid()

    @property
    def fs(self) -> Any:
        """The fsspec file system, this process's own."""
        if self._pid != os.getpid():
            kind, args, options = self._recipe
            self._fs = _tuned(kind(*args, **options, skip_instance_cache=True))
            self._pid = os.getpid()
        return self._fs

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_fs": None, "_pid": None}

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    def where(self, name: str) -> str:
        """``<url>/<name>`` for messages."""
        return f"{self.url}/{name}"

    def key(self, name: object, source: str = "the build plan") -> str:
        """The full key of ``name``; OutputError naming ``source`` unless ``name`` is a plain
        relative path (no ``..``, no absolute key, nothing outside the prefix)."""
        why = confined_name(name)
        if why is not None:
            raise OutputError(
                f"{source}: entry {name!r:.80} is refused: {why}; synthc follows no such key"
            )
        return f"{self.root}/{name}"

    def require_bucket(self) -> None:
        """StoreError unless the bucket (Azure's container) exists: asked where an empty
        listing or a failed write leaves it in doubt. A store that cannot tell says nothing
        here: the operations that follow say what fails."""
        bucket = self.root.split("/", 1)[0]
        try:
            found = self.fs.exists(bucket)
        except Exception:  # noqa: BLE001 - no permission to ask, say: not the question here
            return
        if not found:
            kind = "container" if self.url.partition("://")[0] in _AZURE else "bucket"
            raise StoreError(f"{self.url}: the {kind} {bucket!r} does not exist")

    def object_in_the_way(self) -> str | None:
        """The URL of an object at the prefix itself or at one of its parents
        (``s3://b/a/manifest.json``, or ``s3://b/a/manifest.json/x`` where ``a/manifest.json``
        is an object), or None: a prefix is where a dataset's objects go, as ``-o`` names a
        directory, never a file. Asked after a listing succeeded (a store that does not answer
        has failed the command by then); a key this user may not ask about counts as none."""
        bucket, _, path = self.root.partition("/")
        parts = path.split("/") if path else []
        self.fs.invalidate_cache()  # a listing's cache holds the prefix as a folder
        for depth in range(len(parts), 0, -1):
            key = "/".join([bucket, *parts[:depth]])
            try:
                found = self.fs.info(key)
            except Exception:  # noqa: BLE001, S112 - absent, or not this user's to ask
                continue  # (a policy may grant only the prefix): the listing was answered
            if found.get("type", "file") == "file":
                return public_url(f"{self.url.partition('://')[0]}://{key}")
        return None

    def listing(self) -> dict[str, dict[str, Any]]:
        """Every object under the prefix, by relative name: ``{"size": int, "stamp": str}``."""
        self.fs.invalidate_cache()
        try:
            found = self.fs.find(self.root, detail=True)
        except FileNotFoundError:
            return {}
        except Exception as error:
            raise self._error("", "cannot list", error) from None
        prefix = self.root + "/"
        listed: dict[str, dict[str, Any]] = {}
        for key, info in found.items():
            if key.startswith(prefix) and info.get("type", "file") == "file":
                size = int(info.get("size") or 0)
                listed[key[len(prefix) :]] = {"size": size, "stamp": stamp(info)}
        return listed

    def info(self, name: str) -> dict[str, Any] | None:
        """``{"size", "stamp"}`` of one object, or None if there is none: a "folder" (keys
        below ``name/``, or a zero-byte ``name/`` marker) is none, as :meth:`listing` says."""
        self.fs.invalidate_cache()
        try:
            info = self.fs.info(self.key(name))
        except FileNotFoundError:
            return None
        except Exception as error:
            raise self._error(name, "cannot stat", error) from None
        if info.get("type", "file") != "file":
            return None
        return {"size": int(info.get("size") or 0), "stamp": stamp(info)}

    def read(self, name: str, limit: int, limit_name: str, error: type[OutputError]) -> bytes:
        """The bytes of one object of at most ``limit`` bytes; FileNotFoundError if absent,
        ``error`` (naming ``synthc.limits.<limit_name>``) if bigger."""
        found = self.info(name)
        if found is None:
            raise FileNotFoundError(self.where(name))
        if found["size"] > limit:
            raise error(
                f"{self.where(name)}: {found['size']} bytes exceeds the limit of {limit} bytes "
                f"(synthc.limits.{limit_name})"
            )
        try:
            data = self.fs.cat_file(self.key(name), start=0, end=limit + 1)
        except FileNotFoundError:
            raise
        except Exception as failure:
            raise self._error(name, "cannot read", failure) from None
        if len(data) > limit:
            raise error(f"{self.where(name)}: over the limit (synthc.limits.{limit_name})")
        return bytes(data)

    def write(self, name: str, data: bytes) -> None:
        """Write one object whole (a single PUT: readers see the old object or the new one)."""
        try:
            self.fs.pipe_file(self.key(name), data)
        except Exception as error:
            raise self._error(name, "cannot write", error) from None

    def create(self, name: str, data: bytes) -> bool:
        """Write ``name`` only if no object has that key (a conditional write); False if one
        does. A file system without conditional writes checks first (a small race)."""
        try:
            self.fs.pipe_file(self.key(name), data, mode="create")
            return True
        except FileExistsError:
            return False
        except TypeError:  # no ``mode``: an older fsspec implementation
            if self.info(name) is not None:
                return False
            self.write(name, data)
            return True
        except Exception as error:
            raise self._error(name, "cannot write", error) from None

    def upload(self, local: Path, name: str) -> None:
        """Put the finished file ``local`` at ``name`` (an S3 object, even a multipart one,
        appears only once complete)."""
        try:
            self.fs.put_file(str(local), self.key(name))
        except Exception as error:
            raise self._error(name, "cannot upload", error) from None

    def download(self, name: str, local: Path, size: int | None = None) -> None:
        """Copy object ``name`` to the local file ``local`` (whole, or not at all): into a
        temporary file of this call's own beside it, then renamed, so callers downloading to
        one file at once never write or rename each other's. With ``size`` (what the caller
        listed), an object of another size is refused (:class:`ReplacedObject`) as soon as the
        store says its size, and never more than ``size`` bytes are written: one swapped in
        since it was listed is never fetched whole."""
        local.parent.mkdir(parents=True, exist_ok=True)
        descriptor, partial = tempfile.mkstemp(
            prefix=f".{local.name}.", suffix=".partial", dir=local.parent
        )
        os.close(descriptor)
        try:
            if size is None:
                self.fs.get_file(self.key(name), partial)
            else:
                self.fs.get_file(self.key(name), partial, callback=_bounded(size))
            os.replace(partial, local)
        except _OverSize as over:
            Path(partial).unlink(missing_ok=True)
            raise ReplacedObject(
                f"{self.where(name)}: replaced since it was listed (now {over.found}, not "
                f"{counted(size or 0, 'byte')}); not fetched"
            ) from None
        except Exception as error:
            Path(partial).unlink(missing_ok=True)
            raise self._error(name, "cannot download", error) from None

    def open(self, name: str, size: int | None = None) -> BinaryIO:
        """Object ``name`` opened for reading (streamed). With ``size`` (what the caller saw),
        :class:`ReplacedObject` if the object opened has another size (fsspec's file objects
        know it and read no further): one swapped in since is never streamed."""
        try:
            handle: BinaryIO = self.fs.open(self.key(name), "rb")
        except Exception as error:
            raise self._error(name, "cannot open", error) from None
        found = getattr(handle, "size", None)
        if size is not None and isinstance(found, int) and found != size:
            handle.close()
            raise ReplacedObject(
                f"{self.where(name)}: replaced since it was listed (now "
                f"{counted(found, 'byte')}, not {counted(size, 'byte')}); not read"
            )
        return handle

    def delete(self, name: str) -> None:
        """Delete object ``name`` if it exists."""
        try:
            self.fs.rm_file(self.key(name))
        except FileNotFoundError:
            pass
        except Exception as error:
            raise self._error(name, "cannot delete", error) from None

    def abort_unfinished_uploads(self) -> int:
        """Abort the unfinished multipart uploads of shards (``.parquet``, ``.tar``) under the
        prefix; how many. S3 only: a process killed while it uploaded a shard in parts leaves
        them, which S3 keeps (and bills) until they are aborted, unseen by any listing (GCS and
        Azure discard theirs within a week). Called while the build holds the prefix's lock,
        before its workers start: an upload there is a killed build's. A store that does not
        let this user list or abort them keeps them, as before. Another dataset's under the
        prefix (a folder holding a ``.synthc/`` of its own, as ``s3://b/x/sub`` being built
        under ``s3://b/x``) are left to its build."""
        if self.url.partition("://")[0] not in _S3:
            return 0
        bucket, _, prefix = self.root.partition("/")
        query: dict[str, Any] = {"Bucket": bucket, "Prefix": f"{prefix}/" if prefix else ""}
        aborted = 0
        others: tuple[str, ...] | None = None
        try:
            while True:
                page = self.fs.call_s3("list_multipart_uploads", **query)
                for upload in page.get("Uploads") or []:
                    key = str(upload.get("Key", ""))
                    if key.endswith((".parquet", ".tar")):
                        if others is None:  # listed once, and only when there are uploads
                            others = self._nested_datasets()
                        if key[len(query["Prefix"]) :].startswith(others):
                            continue
                        self.fs.call_s3(
                            "abort_multipart_upload",
                            Bucket=bucket,
                            Key=key,
                            UploadId=upload["UploadId"],
                        )
                        aborted += 1
                if not page.get("IsTruncated"):
                    return aborted
                query["KeyMarker"] = page.get("NextKeyMarker", "")
                query["UploadIdMarker"] = page.get("NextUploadIdMarker", "")
        except Exception:  # noqa: BLE001 - not permitted, or not an S3 server that has them
            return aborted

    def _nested_datasets(self) -> tuple[str, ...]:
        """The folders under the prefix that hold a ``.synthc/`` of their own (``sub/``):
        other datasets, built there by their own builds."""
        mark = f"/{STATE_DIR}/"
        return tuple({f"{name.partition(mark)[0]}/" for name in self.listing() if mark in name})

    def _error(self, name: str, what: str, error: BaseException) -> StoreError:
        where = self.where(name) if name else self.url
        detail = one_line(_headline(str(error)) or type(error).__name__)
        if isinstance(error, FileNotFoundError) and not says_missing(detail):
            detail = f"not found ({detail})"  # gcsfs gives only the request's URL
        detail = _scrubbed(detail, self.given, self.url)
        if _no_credentials(error, detail):
            detail += (
                " (this process found no credentials for the store, or the store refused them: "
                "each process that opens it, a Dask worker too, needs them in its own "
                "environment; docs/storage.md)"
            )
        failure = StoreError(f"{where}: {what}: {detail}")
        failure.cause = error
        if failure.unanswered():  # which server did not answer (no credentials in it)
            if detail == type(error).__name__:  # gcsfs's timeout says nothing more
                detail = f"no answer in time ({detail})"
            server = endpoint(self.fs)
            if server is not None and server not in detail:
                detail = f"{detail} (endpoint {server})"
            failure = StoreError(f"{where}: {what}: {detail}")
            failure.cause = error
        return failure


#: what store libraries say when they find no credentials, or the store refuses them
_CREDENTIAL_WORDS = (
    "unable to locate credentials",
    "partial credentials",
    "invalidaccesskeyid",
    "signaturedoesnotmatch",
    "authenticationfailed",
    "noauthenticationinformation",
    "invalid credentials",
)


def _no_credentials(error: BaseException, detail: str) -> bool:
    """True if ``error`` says credentials are missing or refused."""
    kinds = [kind.__name__ for kind in type(error).__mro__]
    if any("Credential" in kind or "Authentication" in kind for kind in kinds):
        return True
    lowered = detail.lower()
    return any(words in lowered for words in _CREDENTIAL_WORDS)


def _headline(message: str) -> str:
    """The first line of a store library's error message, and its error code when a later line
    gives one: Azure's SDK appends a request id, a time and the whole XML reply."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    if not lines:
        return ""
    if lines[0].endswith(":") and len(lines) > 1:  # botocore's "Parameter validation failed:"
        lines[0] = f"{lines[0]} {lines[1]}"  # and, on the next line, which and why
    code = next(
        (line.split(":", 1)[1].strip() for line in lines if line.startswith("ErrorCode:")), ""
    )
    return f"{lines[0]} ({code})" if code and code not in lines[0] else lines[0]


def says_missing(detail: str) -> bool:
    """True if a store library's message already says that something does not exist."""
    lowered = detail.lower()
    return any(words in lowered for words in ("not found", "not exist", "no such", "notfound"))


def stamp(info: dict[str, Any]) -> str:
    """What says an object is unchanged since: its ETag, else its modification time and size."""
    for field in ("ETag", "etag", "md5Hash", "content_settings"):
        value = info.get(field)
        if isinstance(value, str) and value:
            return f"etag:{value}"
    for field in ("LastModified", "mtime", "updated", "last_modified", "created"):
        value = info.get(field)
        if value is not None:
            return f"time:{value}:{info.get('size')}"
    return f"size:{info.get('size')}"


def check_store_packages(url: str) -> None:
    """UsageError naming the extra to install unless fsspec and the package of ``url``'s
    scheme (s3fs, gcsfs, adlfs) import."""
    protocol = url.partition("://")[0]
    package, extra = _PACKAGES.get(protocol, (None, "fsspec"))
    shown = public_url(url)
    check_fsspec_config()  # before fsspec reads it, warning or failing its import
    try:
        import fsspec.core  # noqa: F401
    except ImportError:
        raise UsageError(
            f"{shown}: outputs on object stores need fsspec: pip install '{extra}'"
        ) from None
    if package is not None:
        try:
            __import__(package)
        except ImportError:
            raise UsageError(
                f"{shown}: {protocol}:// outputs need {package}: pip install '{extra}'"
            ) from None


def open_store(url: str) -> Store:
    """The store at ``url``; UsageError naming the package to install when its fsspec
    implementation is missing, when the URL names no bucket, or when :func:`url_problem`
    finds one (a scheme not in :data:`SCHEMES` among them); StoreError when the file system
    cannot be opened (a host it cannot reach)."""
    shown = public_url(url)
    problem = url_problem(url)
    if problem is not None:
        raise UsageError(problem)
    protocol = url.partition("://")[0]
    check_store_packages(url)
    from fsspec.core import url_to_fs

    options = {**_bounded_requests(protocol), **gcs_options(protocol)}
    try:
        fs, root = url_to_fs(url, **options)
    except (ImportError, ValueError) as error:
        detail = _scrubbed(one_line(str(error)), url, shown)
        raise UsageError(f"{shown}: no fsspec file system for {protocol}:// ({detail})") from None
    except Exception as error:  # a refused connection, a host name that does not resolve
        detail = _scrubbed(one_line(_headline(str(error)) or type(error).__name__), url, shown)
        raise StoreError(f"{shown}: cannot open the store: {detail}") from None
    root = str(root).strip("/")
    if not root:
        raise UsageError(f"{shown}: names no bucket or prefix")
    return Store(url, _tuned(fs), root)


def _tuned(fs: Any) -> Any:
    """``fs`` with s3fs's own attempts at each call (around botocore's) at most
    :data:`S3FS_RETRIES`, and an Azure client's requests bounded (store_bounds.py)."""
    protocols = fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)
    if set(protocols) & set(_S3) and isinstance(getattr(fs, "retries", None), int):
        fs.retries = min(fs.retries, S3FS_RETRIES)
    if set(protocols) & set(_AZURE):
        bound_azure(fs)
    return fs


def _bounded_requests(protocol: str) -> dict[str, Any]:
    """The options that bound each request of an S3 store (:data:`S3_REQUESTS`) under the
    user's own: fsspec's configuration (``config_kwargs`` of ``~/.config/fsspec/*.json`` or
    ``FSSPEC_S3``) wins key by key, and botocore's retry settings (``AWS_MAX_ATTEMPTS``,
    ``AWS_RETRY_MODE``, ``max_attempts`` or ``retry_mode`` in ``~/.aws/config``) keep their
    retries. Nothing for other protocols."""
    if protocol not in _S3:
        return {}
    from fsspec.config import conf

    given: dict[str, Any] = {}
    for name in _S3:  # as fsspec applies them: s3a's options over s3's
        found = (conf.get(name) or {}).get("config_kwargs")
        if found is not None:
            problem = config_kwargs_problem(name, found)
            if problem is not None:
                raise UsageError(problem)
            given = found
    options = {key: value for key, value in S3_REQUESTS.items() if key != "retries"}
    if "retries" not in given and not _botocore_retries_configured():
        options["retries"] = S3_REQUESTS["retries"]
    session = no_continue_session()
    if session is not None:
        options["http_session_cls"] = session
    return {"config_kwargs": {**options, **given}}


def _botocore_retries_configured() -> bool:
    """True if the environment or the AWS config file sets botocore's retries."""
    if os.environ.get("AWS_MAX_ATTEMPTS") or os.environ.get("AWS_RETRY_MODE"):
        return True
    names = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONFIG_FILE")
    return _profile_sets_retries(tuple(os.environ.get(name) for name in names))


@functools.lru_cache(maxsize=8)
def _profile_sets_retries(_where: tuple[str | None, ...]) -> bool:
    """True if the AWS config file's profile (named by the variables ``_where`` holds) sets
    ``max_attempts`` or ``retry_mode``; read once per process (a botocore session takes
    10 ms, and every shard task opens the store)."""
    try:
        import botocore.session

        profile = botocore.session.Session().get_scoped_config()
        return any(name in profile for name in ("max_attempts", "retry_mode"))
    except Exception:  # noqa: BLE001 - a broken AWS config: botocore says so when it connects
        return False


def _scrubbed(text: str, url: str, shown: str) -> str:
    """``text`` with the URL as given shown as ``shown``, and its possibly secret parts masked
    (and those of any other URL in it, such as the endpoint's: see :func:`masked`)."""
    text = text.replace(url, shown)
    for secret in secret_parts(url):
        text = text.replace(secret, "***")
    return masked(text)


def pid_namespace() -> str | None:
    """This process's PID namespace as Linux names it (``pid:[4026531836]``), or None where
    none can be read (no ``/proc``: another system, or a container without it mounted)."""
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return None


def boot_id() -> str | None:
    """This kernel's boot id (new at every boot, shared by its containers), or None."""
    try:
        with open("/proc/sys/kernel/random/boot_id", "rb") as handle:
            text = handle.read(100).decode("ascii", "replace").strip()
    except OSError:
        return None
    return text or None


def new_lock_token() -> str:
    """A value no other build's lock holds: what says a lock is still this build's."""
    return secrets.token_hex(16)


def lock_body(token: str) -> bytes:
    """What the lock object holds: who took it (host, process id and the PID namespace and
    boot that process id belongs to), when, and the build's own ``token``."""
    return json.dumps(
        {
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
            "pid_namespace": pid_namespace(),
            "boot_id": boot_id(),
            "token": token,
        },
        allow_nan=False,
    ).encode()


def _lock_fields(body: bytes) -> dict[str, Any] | None:
    """The lock ``body`` as a JSON object, or None (the store's bytes are untrusted: at most
    :data:`MAX_LOCK_BYTES`, read by the caller, and possibly nested to break the parser)."""
    try:
        holder = loads_strict(body)
    except (ValueError, TypeError, RecursionError):
        return None
    return holder if isinstance(holder, dict) else None


def lock_token(body: bytes) -> str | None:
    """The token of the build that wrote the lock ``body``, if it records one."""
    holder = _lock_fields(body)
    token = holder.get("token") if holder is not None else None
    return token if isinstance(token, str) else None


def why_held(body: bytes) -> str | None:
    """None if the lock ``body`` was left by a build that is gone (killed): it was taken on
    this host, in this PID namespace and since this boot, by a process that no longer runs, so
    it may be taken over. Otherwise why it counts as held. A process id means something only
    in its own PID namespace: a build in another container, or in another ``unshare --pid``,
    with this host name may be running though its process id is free here, so its lock (or
    one that does not say where it was taken, as synthc wrote before it recorded that) is
    never judged stale."""
    holder = _lock_fields(body)
    if holder is None:
        return "not a lock synthc can read"
    host, pid = holder.get("host"), holder.get("pid")
    if not isinstance(host, str) or type(pid) is not int:
        return "not a lock synthc can read"
    if host != socket.gethostname():
        return "taken on another host"
    if "pid_namespace" not in holder or "boot_id" not in holder:
        return "it does not say in which PID namespace it was taken (an older synthc's)"
    here, booted = pid_namespace(), boot_id()
    if here is None or booted is None:
        return "this system does not say which PID namespace this build runs in"
    if holder["pid_namespace"] != here or holder["boot_id"] != booted:
        return (
            "taken in another PID namespace (another container, or a machine of the same "
            "name) or before this machine last booted: synthc cannot tell whether it runs"
        )
    if not 0 < pid < 2**31:
        return "its process id is not one"  # a planted 2**40 would overflow os.kill
    if process_gone(pid):
        return None
    return f"process {pid} {RUNS_HERE}"


def process_gone(pid: int) -> bool:
    """True if no process of this PID namespace has the id ``pid``; a number that is no
    process id, or another user's process, is not judged gone."""
    if not 0 < pid < 2**31:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (OSError, OverflowError):
        pass  # another user's process: it runs
    return False


#: the end of :func:`why_held`'s reason when the lock's build runs here (it may finish soon)
RUNS_HERE = "runs on this host"


def stale_lock(body: bytes) -> bool:
    """True if the lock ``body`` may be taken over (see :func:`why_held`)."""
    return why_held(body) is None
