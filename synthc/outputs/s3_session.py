"""The HTTP session of synthc's S3 requests: aiobotocore's, without ``Expect: 100-continue``.

botocore asks for a ``100 Continue`` before it sends the body of every PUT (PutObject,
UploadPart). aiohttp starts a request's read timeout only once the body is sent, so a server
that accepts the connection and never answers held the lock's PUT, and the build, for ever
(botocore's own HTTP client waits one second for the ``100 Continue``, then sends the body).
Without the header the body goes at once and ``read_timeout`` bounds the wait for the answer.
The header is not signed (SigV4 leaves ``Expect`` out), so dropping it changes no signature.
aiobotocore (which s3fs needs) is imported only when an S3 store is opened.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any


@functools.cache
def no_continue_session() -> type | None:
    """aiobotocore's aiohttp session class, sending each body without waiting for ``100
    Continue``; None if aiobotocore is missing or its AioConfig takes no session class."""
    try:
        from aiobotocore.config import AioConfig
        from aiobotocore.httpsession import AIOHTTPSession
    except ImportError:
        return None
    if "http_session_cls" not in inspect.signature(AioConfig).parameters:
        return None

    class NoContinueSession(AIOHTTPSession):
        async def send(self, request: Any) -> Any:
            headers = request.headers  # botocore's, case-insensitive
            if "Expect" in headers:
                del headers["Expect"]
            return await super().send(request)

    NoContinueSession.__qualname__ = "NoContinueSession"  # pickled by name (see __getattr__)
    return NoContinueSession


def __getattr__(name: str) -> Any:
    """``NoContinueSession``, made on first use: an S3 file system pickled with its options
    (a dataset sent to another process) names it."""
    if name == "NoContinueSession" and (session := no_continue_session()) is not None:
        return session
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
