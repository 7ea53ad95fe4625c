"""Reads of a streamed reply held until its reader will draw again, so the tokens of
one frame come in one read.

A model at 100 tokens/s sends each token in its own TCP segment. Read as it comes,
every token costs the event loop a wake-up, a `recv`, two `epoll_ctl`s (anyio resumes
and pauses the transport around each read), an h11 and an SSE pass: about 0.4 ms, a
third of the app's CPU at that rate. The chat draws a reply at most once a frame
anyway, so until its next frame the kernel may as well keep what arrives: the read
waits, and then takes the whole frame's tokens at once.

The reader says when that is: `hold_reads` is set, in the context a reply runs in, to
a function returning the monotonic time before which it will not draw (0 when it
would draw now). Only this connection's reads wait; the provider knows nothing of the
screen. The wrapper goes into the connection pool's network backend, as
`preconnect` does; where a client has no such attribute, reads go unpaced.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

#: Set by a reader that draws in frames (the chat's reply widget): when its next frame is.
hold_reads: ContextVar[Callable[[], float] | None] = ContextVar("hold_reads", default=None)

#: The longest one read waits, whatever the reader says: a hold is a frame, not a stall.
MAX_HOLD = 0.1
#: A held read whose data took longer than this to come after the hold found nothing
#: waiting: the hold batched nothing.
IN_VAIN = 0.002


def _hold_for() -> float:
    """How long the reader would have the next read wait (0: not at all)."""
    until = hold_reads.get()
    return 0.0 if until is None else min(max(until() - time.monotonic(), 0.0), MAX_HOLD)


class PacedStream:
    """An httpcore network stream whose reads first wait for the reader's next frame,
    until a read brings one of `ends` (the protocol's last event: what follows it, the
    body's terminator, is read at once, so the reply's end and its timing are not held
    back a frame)."""

    def __init__(self, stream: Any, ends: tuple[bytes, ...] = ()) -> None:
        self._stream = stream
        self._ends = ends
        self._ended = False  # this response's last event came; reset by the next request
        #: Whether reads are held: not while the stream is slower than the reader's
        #: frames (a model under 24 tok/s), where each token comes after the hold would
        #: have ended anyway, and holding only added a wake-up per token.
        self._holding = True

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        hold = 0.0 if self._ended else _hold_for()
        held = self._holding and hold > 0
        if held:
            await asyncio.sleep(hold)  # before the read: the read timeout is not shortened
        started = time.monotonic()
        data = await self._stream.read(max_bytes, timeout)
        waited = time.monotonic() - started
        if held:
            self._holding = waited <= IN_VAIN  # else the data was not there yet
        elif hold > 0:
            self._holding = waited < hold  # it came before the hold would have ended
        if self._ends and any(end in data for end in self._ends):
            self._ended = True
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._ended = False  # a new request on this connection
        await self._stream.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(self, *args: Any, **kwargs: Any) -> PacedStream:
        return PacedStream(await self._stream.start_tls(*args, **kwargs), self._ends)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class PacedBackend:
    """The pool's network backend, handing out paced streams."""

    def __init__(self, backend: Any, ends: tuple[bytes, ...] = ()) -> None:
        self._backend = backend
        self._ends = ends

    async def connect_tcp(self, *args: Any, **kwargs: Any) -> PacedStream:
        return PacedStream(await self._backend.connect_tcp(*args, **kwargs), self._ends)

    async def connect_unix_socket(self, *args: Any, **kwargs: Any) -> PacedStream:
        stream = await self._backend.connect_unix_socket(*args, **kwargs)
        return PacedStream(stream, self._ends)

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


def install(client: Any, ends: tuple[bytes, ...] = ()) -> bool:
    """Pace the reads of every connection `client` (an httpx or httpx2 AsyncClient)
    makes, through a proxy too; False where its pools cannot be reached. `ends`: the
    bytes that mark a stream's last event (see `PacedStream`)."""
    transports = [getattr(client, "_transport", None), *getattr(client, "_mounts", {}).values()]
    done = False
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if backend is not None and not isinstance(backend, PacedBackend):
            pool._network_backend = PacedBackend(backend, ends)
            done = True
    return done
