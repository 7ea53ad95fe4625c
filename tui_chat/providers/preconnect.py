"""A connection to the provider opened while the user types, so that a chat's first
request does not wait for a TCP handshake (1-3 ms on loopback; a round trip to a remote
provider).

httpcore connects inside the first request. Here its pool's network backend is wrapped:
`warm()` opens a TCP connection ahead of time and parks it, and the pool's next connect
to that host and port takes it, if it is still fresh and the server has not closed it;
else the pool connects as it always does. Neither httpx nor httpx2 lets a client pass a
network backend, so the wrapper goes in through the pool's attribute; where a version
has none (or a proxy is set: the connection would bypass it), nothing changes.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any
from urllib.parse import urlsplit

#: Seconds a parked connection is handed out for. A server that closes it sooner (uvicorn
#: does after 5 s) makes it readable, and a readable one is never handed out.
FRESH_SECONDS = 30.0


class Preconnector:
    """The pool's network backend, with at most one connection parked ahead of time."""

    def __init__(self, backend: Any, url: str) -> None:
        self._backend = backend
        parts = urlsplit(url)
        self.host = parts.hostname or ""
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self._spare: tuple[Any, float] | None = None  # the stream, and when it was opened
        self._warming = False
        self._closed = False

    async def warm(self, timeout: float = 5.0) -> None:
        """Open a connection for the next request, unless one is parked and fresh."""
        if self._closed or self._warming or (self._spare and self._fresh(*self._spare)):
            return
        self._warming = True
        try:
            stream = await self._backend.connect_tcp(self.host, self.port, timeout=timeout)
        except Exception:  # the request will connect (and say what is wrong) itself
            return
        finally:
            self._warming = False
        await self._discard()
        self._spare = (stream, time.monotonic())
        if self._closed:  # the client closed while this connected
            await self._discard()

    def _fresh(self, stream: Any, opened: float) -> bool:
        # Readable while idle means closed by the server (or bytes nobody asked for).
        return time.monotonic() - opened < FRESH_SECONDS and not stream.get_extra_info(
            "is_readable"
        )

    async def _discard(self) -> None:
        spare, self._spare = self._spare, None
        if spare is not None:
            with contextlib.suppress(Exception):
                await spare[0].aclose()

    # -- the network backend httpcore calls ------------------------------------------

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> Any:
        spare = self._spare
        if spare is not None and (host, port) == (self.host, self.port) and not local_address:
            self._spare = None
            if not socket_options and self._fresh(*spare):
                return spare[0]
            with contextlib.suppress(Exception):
                await spare[0].aclose()
        return await self._backend.connect_tcp(
            host, port, timeout=timeout, local_address=local_address, socket_options=socket_options
        )

    async def connect_unix_socket(self, *args: Any, **kwargs: Any) -> Any:
        return await self._backend.connect_unix_socket(*args, **kwargs)

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)

    async def aclose(self) -> None:
        self._closed = True
        await self._discard()


def install(client: Any, url: str) -> Preconnector | None:
    """Wrap the network backend of `client`'s connection pool (an httpx or httpx2
    AsyncClient); None where it cannot be done."""
    if getattr(client, "_mounts", None):  # proxies: connections go through them
        return None
    pool = getattr(getattr(client, "_transport", None), "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if backend is None or type(pool).__name__ != "AsyncConnectionPool":
        return None
    if not urlsplit(url).hostname:
        return None
    preconnector = Preconnector(backend, url)
    pool._network_backend = preconnector
    return preconnector
