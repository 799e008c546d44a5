"""The secret parts of URLs in text synthc prints: user info, passwords, queries, fragments.

A store library's message (an error, a logged retry) may quote a URL with credentials in it,
an endpoint from the environment with a token in its query, or a request's bare
``/path?access_token=...``; :func:`masked` replaces each such part with ``***`` wherever it
appears, so no credential reaches the terminal, a log or a file.
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

#: Azure's URL schemes, where ``container@account`` names a container, not a user
AZURE_SCHEMES = ("az", "abfs", "abfss")
#: where the store libraries find an endpoint URL, which may carry a token in its query or a
#: user:password: text that echoes it is masked (see :func:`masked`)
_ENDPOINT_VARIABLES = (
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "FSSPEC_S3_ENDPOINT_URL",
    "STORAGE_EMULATOR_HOST",
)
#: a URL in a library's message: scheme, host (user info included), path, query, fragment;
#: it ends where the message's quotes, brackets or spaces do
_URL_IN_TEXT = re.compile(
    r"\b([A-Za-z][A-Za-z0-9+.-]*://)([^\s/?#\"'`<>]*)([^\s?#\"'`<>]*)"
    r"(\?[^\s#\"'`<>]*)?(#[^\s\"'`<>]*)?"
)
#: a URL's path and query without its scheme and host, as urllib3 words a failed request
#: (``Max retries exceeded with url: /tokeninfo?access_token=...``): its query is masked too
_PATH_QUERY_IN_TEXT = re.compile(r"(?<![^\s\"'`(\[=])(/[^\s?#\"'`<>]*)\?[^\s#\"'`<>]*")


def host_of(scheme: str, netloc: str) -> str:
    """``netloc`` without its user info; an Azure ``container@account`` (no password) is kept:
    the container is no secret."""
    userinfo, at, host = netloc.rpartition("@")
    if at and scheme.lower() in AZURE_SCHEMES and ":" not in userinfo:
        return netloc
    return host


def secret_parts(url: str) -> list[str]:
    """The parts of ``url`` never to print: its user info, password, query and fragment."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return [url]
    host = host_of(parts.scheme, parts.netloc)
    userinfo = parts.netloc[: -len(host) - 1] if host != parts.netloc else ""
    found = [userinfo, password or "", parts.query, parts.fragment]
    return sorted({part for part in found if part}, key=len, reverse=True)


def masked(text: str) -> str:
    """``text`` (a store library's message) with the user info, query and fragment of every
    URL in it replaced by ``***`` (the query of a bare ``/path?query`` too: gcsfs puts a raw
    token in one, which urllib3's errors quote), and the secret parts of the endpoint URLs the
    environment gives (``AWS_ENDPOINT_URL=http://host/?token=...``) wherever they appear."""
    for variable in _ENDPOINT_VARIABLES:
        endpoint = os.environ.get(variable)
        if endpoint and "://" in endpoint:
            for secret in secret_parts(endpoint):
                text = text.replace(secret, "***")
    return _PATH_QUERY_IN_TEXT.sub(r"\1?***", _URL_IN_TEXT.sub(_masked_url, text))


def _masked_url(match: re.Match[str]) -> str:
    scheme, netloc, path, query, fragment = match.groups()
    host = host_of(scheme[:-3], netloc)
    if host != netloc:
        host = f"***@{host}"
    return f"{scheme}{host}{path}{'?***' if query else ''}{'#***' if fragment else ''}"
