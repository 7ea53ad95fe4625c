"""Reading a provider's stream whole, for tests of a provider on its own.

The app, compare mode, `ask` and `serve` all go through the reply runner; a provider
test wants the provider's own events and errors, untouched, so it reads them here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from tui_chat.core.protocol import ChatRequest, Done, Provider, Retrying, TextDelta, WireTap


@dataclass(slots=True)
class Collected:
    """A whole reply gathered from a stream."""

    text: str = ""
    done: Done | None = None
    deltas: list[str] = field(default_factory=list)


async def collect(
    provider: Provider,
    request: ChatRequest,
    *,
    tap: WireTap | None = None,
    on_retry: Callable[[Retrying], None] | None = None,
) -> Collected:
    """The whole reply; `on_retry` hears about each retry while it waits (for a note)."""
    out = Collected()
    # Without a tap, call as before the tap existed: a provider written against the
    # older contract (a test double, a plugin) keeps working.
    events = provider.stream(request) if tap is None else provider.stream(request, tap=tap)
    async for event in events:
        if isinstance(event, TextDelta):
            out.deltas.append(event.text)
        elif isinstance(event, Done):
            out.done = event
        elif on_retry is not None:
            on_retry(event)
    out.text = "".join(out.deltas)
    return out
