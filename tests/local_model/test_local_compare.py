"""Compare mode with both sides on the local model: they take turns on the CPU, and the
screen says so, so neither side's time includes the other's."""

from __future__ import annotations

from ui.app_factory import make_app, wait_for

from tui_chat.providers.local import LocalProvider
from tui_chat.settings.config import LOCAL_MODEL, Settings
from tui_chat.ui.screens.compare import CompareScreen, Contender
from tui_chat.ui.widgets.compare.pane import ComparePane
from tui_chat.ui.widgets.conversation.message import AssistantMessage
from tui_chat.ui.widgets.prompt import PromptInput

from .conftest import requires_xllamacpp


def local_contenders(max_tokens: int) -> tuple[Contender, Contender]:
    settings = Settings(api="local", model=LOCAL_MODEL, temperature=0)
    return (
        Contender("streaming", settings, LocalProvider(settings, max_tokens=max_tokens)),
        Contender(
            "non-streaming",
            settings.with_(stream=False),
            LocalProvider(settings, max_tokens=max_tokens),
        ),
    )


def pane_reply(screen: CompareScreen, side: str) -> AssistantMessage:
    return screen.query_one(f"#pane-{side}", ComparePane).query_one(AssistantMessage)


@requires_xllamacpp
async def test_local_sides_run_one_after_the_other_and_the_screen_says_so() -> None:
    app = make_app(api="local")
    left, right = local_contenders(max_tokens=24)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = CompareScreen(left, right)
        await app.push_screen(screen)
        assert "take turns" in str(screen.query_one("#compare-banner").render())
        screen.query_one(PromptInput).load_text("Name three colours.")
        await pilot.press("enter")
        await wait_for(pilot, lambda: not screen.busy, timeout=60)
        first, second = left.provider.last_run, right.provider.last_run
        assert first is not None and second is not None and first.ended_at is not None
        assert second.started_at >= first.ended_at
        assert pane_reply(screen, "left").text and pane_reply(screen, "right").text
        assert "sooner" in str(screen.query_one("#verdict").render())


@requires_xllamacpp
async def test_esc_during_the_first_turn_stops_both_sides() -> None:
    app = make_app(api="local")
    left, right = local_contenders(max_tokens=2000)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = CompareScreen(left, right)
        await app.push_screen(screen)
        screen.query_one(PromptInput).load_text("Write a long story about the sea.")
        await pilot.press("enter")
        await wait_for(pilot, lambda: bool(pane_reply(screen, "left").text), timeout=60)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not screen.busy)
        assert right.provider.last_run is None  # its turn never came
        assert pane_reply(screen, "left").status == pane_reply(screen, "right").status == "stopped"
