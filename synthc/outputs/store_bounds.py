"""How long a GCS or Azure request may take, and where a store's requests go (for messages).

With their libraries' defaults a server that accepts connections but never answers kept a
command silent for minutes: gcsfs waits 5 minutes for each of its 6 attempts, the Azure SDK 20 s
to connect, 60 s for each read and retries 3 times with a backoff from 15 s. S3's bounds are
``store.S3_REQUESTS``; these are the same: 5 s to connect, 15 s without an answer. The user's
own settings in fsspec's configuration win (``requests_timeout`` for ``gs``,
``connection_timeout`` and ``read_timeout`` for ``az``).
"""

from __future__ import annotations

from typing import Any

from synthc.secret_text import AZURE_SCHEMES

#: seconds to wait for a connection, and for an answer (between reads), as for S3
CONNECT_TIMEOUT = 5
READ_TIMEOUT = 15
#: the Azure SDK's retries of a request that got no connection or no answer (its default 3),
#: and its first backoff (its default 15 s)
AZURE_RETRIES = 1
AZURE_BACKOFF = 2
_GCS = ("gs", "gcs")
_AZURE = AZURE_SCHEMES


def gcs_options(protocol: str) -> dict[str, Any]:
    """The options that bound each request of a GCS store, unless fsspec's configuration sets
    ``requests_timeout``; nothing for other protocols. (gcsfs makes 6 attempts, its own
    choice, so a store that never answers fails a call in about 2 minutes, not 30.)"""
    if protocol not in _GCS:
        return {}
    from fsspec.config import conf

    if any("requests_timeout" in (conf.get(name) or {}) for name in _GCS):
        return {}
    import aiohttp

    timeout = aiohttp.ClientTimeout(sock_connect=CONNECT_TIMEOUT, sock_read=READ_TIMEOUT)
    return {"requests_timeout": timeout}


def bound_azure(fs: Any) -> None:
    """Bound the requests of the Azure client of ``fs`` (adlfs passes no such options to the
    client it makes): its transport's timeouts and its retry policy, which the clients it
    makes for containers and blobs share. A client without them is left as it is."""
    client = getattr(fs, "service_client", None)
    pipeline = getattr(client, "_pipeline", None)
    connection = getattr(getattr(pipeline, "_transport", None), "connection_config", None)
    if connection is not None:
        connection.timeout = getattr(fs, "_timeout_kwargs", {}).get(
            "connection_timeout", CONNECT_TIMEOUT
        )
        connection.read_timeout = getattr(fs, "_timeout_kwargs", {}).get(
            "read_timeout", READ_TIMEOUT
        )
    retry = getattr(getattr(client, "_config", None), "retry_policy", None)
    if retry is not None and hasattr(retry, "total_retries"):
        # a busy store's answers (503) keep the SDK's retries; a silent one gets one more try
        for field in ("connect_retries", "read_retries"):
            setattr(retry, field, min(getattr(retry, field, AZURE_RETRIES), AZURE_RETRIES))
        if hasattr(retry, "initial_backoff"):
            retry.initial_backoff = min(retry.initial_backoff, AZURE_BACKOFF)


def endpoint(fs: Any) -> str | None:
    """Where the requests of ``fs`` go (``http://127.0.0.1:10000``), without path or query (an
    Azure account URL may carry a SAS token); None if it cannot be told."""
    from urllib.parse import urlsplit

    found: Any = None
    protocols = fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)
    if set(protocols) & set(_AZURE):
        found = getattr(getattr(fs, "service_client", None), "url", None)
    elif set(protocols) & set(_GCS):
        found = getattr(fs, "_location", None)
    else:
        found = getattr(getattr(getattr(fs, "s3", None), "meta", None), "endpoint_url", None)
        found = found or (getattr(fs, "client_kwargs", None) or {}).get("endpoint_url")
    if not isinstance(found, str):
        return None
    try:
        parts = urlsplit(found)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return None
    if not parts.scheme or not host:
        return None
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}{f':{port}' if port else ''}"
