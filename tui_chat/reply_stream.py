"""Feed one provider stream into one reply widget: the loop the chat and compare panes share."""

from __future__ import annotations

from tui_chat.core.metrics import ReplyTimer
from tui_chat.core.protocol import ChatRequest, Done, Provider, Retrying, TextDelta, WireTap
from tui_chat.ui.widgets.conversation.message import AssistantMessage


async def stream_reply(
    provider: Provider,
    request: ChatRequest,
    reply: AssistantMessage,
    timer: ReplyTimer,
    tap: WireTap | None = None,
) -> Done | None:
    """Append each delta; the timer notes a chunk once it is in the widget (on screen).
    A retry is shown in the reply while the provider waits to make it.

    Raises whatever the provider raises (`ProviderError`, `CancelledError`): how a reply
    ends is the caller's business.
    """
    done: Done | None = None
    events = provider.stream(request) if tap is None else provider.stream(request, tap=tap)
    async for event in events:
        if isinstance(event, TextDelta):
            await reply.append(event.text)
            timer.on_text()
        elif isinstance(event, Retrying):
            reply.show_retry(event)
        else:
            done = event
    return done
