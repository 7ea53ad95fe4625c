"""The chat and compare mode tell the provider when a reply is next drawn, so its stream
is read once a frame (`providers.read_pacing`); the fake server on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable

from textual.app import App, ComposeResult

from tui_chat.core.protocol import ChatRequest, Event, Provider, TextDelta, WireTap
from tui_chat.providers import make_provider
from tui_chat.providers.read_pacing import hold_reads
from tui_chat.settings.config import Settings
from tui_chat.ui.screens.compare import CompareScreen, Contender
from tui_chat.ui.widgets.conversation.chat_log import ChatLog
from tui_chat.ui.widgets.conversation.message import (
    FLUSH_SECONDS,
    READ_AHEAD_SECONDS,
    AssistantMessage,
)
from tui_chat.ui.widgets.prompt import PromptInput

from .app_factory import KEY, make_app, replies, send, wait_for
from fake_server import FakeLLMServer, Script


class Watching:
    """A real provider, noting what its reader's `hold_reads` said at each text delta."""

    def __init__(self, provider: Provider) -> None:
        self._provider = provider
        self.name = provider.name
        self.holds: list[tuple[float, float]] = []  # (when, what the reader said)
        self.hold: Callable[[], float] | None = None

    def stream(self, request: ChatRequest, *, tap: WireTap | None = None) -> AsyncIterator[Event]:
        return self._watch(request, tap)

    async def _watch(self, request: ChatRequest, tap: WireTap | None) -> AsyncIterator[Event]:
        self.hold = hold_reads.get()
        async for event in self._provider.stream(request, tap=tap):
            if isinstance(event, TextDelta) and self.hold is not None:
                self.holds.append((time.monotonic(), self.hold()))
            yield event

    def __getattr__(self, name: str) -> object:
        return getattr(self._provider, name)


def check_holds(watching: Watching, reply: AssistantMessage) -> None:
    """No hold before the first words; then each says the next frame (or, with a
    hand-over already on its timer, the frame after it), no further off; none once the
    reply has ended."""
    assert watching.hold is not None
    (first_at, first), *later = watching.holds
    assert first == 0.0  # the first words are drawn at once
    ahead = [hold - at for at, hold in later if hold]
    assert ahead, watching.holds  # a streaming reply asked its reads to wait
    assert all(gap <= 2 * FLUSH_SECONDS for gap in ahead), ahead
    assert reply.status == "complete"
    assert watching.hold() == 0.0  # ended: nothing to wait for


async def chat_reply(fake_server: FakeLLMServer) -> tuple[Watching, AssistantMessage]:
    """One prompt sent in the chat, its reply streamed to the end, watched."""
    watching = Watching(
        make_provider(
            Settings(api="chat", base_url=fake_server.openai_url, model="m", api_key=KEY),
            timeout=5,
            max_retries=0,
        )
    )
    app = make_app(fake_server, provider=watching)
    async with app.run_test(size=(80, 24)) as pilot:
        await send(pilot, "hello")
        await wait_for(pilot, lambda: bool(replies(app)) and replies(app)[-1].status == "complete")
        return watching, replies(app)[-1]


async def test_a_chat_reply_asks_its_reads_to_wait_for_its_next_frame(
    fake_server: FakeLLMServer,
) -> None:
    chunks = [f"word{i} " for i in range(15)]
    fake_server.enqueue(Script(chunks=chunks, delay=0.01, steady=True))
    watching, reply = await chat_reply(fake_server)
    assert reply.text == "".join(chunks)
    check_holds(watching, reply)


async def test_each_compare_side_asks_for_its_own_frames(fake_server: FakeLLMServer) -> None:
    chunks = [f"word{i} " for i in range(15)]
    fake_server.enqueue(
        Script(chunks=chunks, delay=0.01, steady=True),
        Script(chunks=chunks, delay=0.01, steady=True),
    )
    settings = Settings(api="chat", base_url=fake_server.openai_url, model="m", api_key=KEY)
    sides = [Watching(make_provider(settings, timeout=5, max_retries=0)) for _ in range(2)]
    app = make_app(fake_server)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = CompareScreen(
            Contender("a", settings, sides[0]), Contender("b", settings, sides[1])
        )
        await app.push_screen(screen)
        screen.query_one(PromptInput).load_text("why stream?")
        await pilot.press("enter")
        panes = lambda: list(screen.query(AssistantMessage))  # noqa: E731
        await wait_for(pilot, lambda: all(r.status == "complete" for r in panes()))
        for watching, reply in zip(sides, panes(), strict=True):
            check_holds(watching, reply)
        owners = [getattr(side.hold, "__self__", None) for side in sides]
        assert owners[0] is not owners[1]  # each pane's own reply says when it draws


class Host(App[None]):
    def compose(self) -> ComposeResult:
        with ChatLog():
            yield AssistantMessage()


async def test_a_due_hand_over_holds_the_next_read_a_frame() -> None:
    """A frame's batch read at once makes its hand-over due; the read the stream makes
    next, before that hand-over has run, must wait a whole frame, or each frame costs
    two reads (the batch, then the next token alone)."""
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        reply = app.query_one(AssistantMessage)
        assert reply.next_draw() == 0.0  # before the first words: read at once
        await reply.append("First words")  # drawn at once
        await pilot.pause(FLUSH_SECONDS + 0.01)  # the next text is due when it comes
        await reply.append(" and more")
        now = time.monotonic()  # the hand-over is scheduled, not yet run
        assert reply.next_draw() >= now + FLUSH_SECONDS - READ_AHEAD_SECONDS - 0.005
        await pilot.pause()
        assert "and more" in reply.text


async def test_a_hand_over_on_its_timer_holds_the_next_read_past_it() -> None:
    """Text read before its frame is due waits on a timer; the stream's next read must
    wait for the frame after that one, not read again at once (for a token or two that
    the timer's hand-over would then take alone, a second wake-up a frame)."""
    app = Host()
    async with app.run_test(size=(80, 24)):
        reply = app.query_one(AssistantMessage)
        before = time.monotonic()
        await reply.append("First words")  # drawn at once: the frame starts now
        await reply.append(" and more")  # within that frame: handed over at its end
        frame_after = before + 2 * FLUSH_SECONDS - READ_AHEAD_SECONDS
        assert reply.next_draw() >= frame_after
        assert "and more" not in reply._body.source  # still on its timer
