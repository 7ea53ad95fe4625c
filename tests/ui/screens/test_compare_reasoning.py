"""Compare mode shows a reasoning model's thinking in each pane, as the chat does: live on
the streaming side, folded once its answer starts; folded from the start on the side
that gets it whole. The order is the fake server's (reasoning, a hold, the answer), so
nothing here races the two sides or reads a clock."""

from __future__ import annotations

import pytest

from tui_chat.core.protocol import ChatMessage
from tui_chat.ui.screens.compare import SIDES, CompareScreen
from tui_chat.ui.widgets.conversation.reasoning import ReasoningBlock
from tui_chat.ui.widgets.prompt import PromptInput

from ..app_factory import make_app, wait_for
from .test_compare import contenders, pane_reply, pane_stats
from fake_server import FakeLLMServer, Script

THOUGHTS = ["Two and two ", "make four."]


def pane_reasoning(screen: CompareScreen, side: str) -> ReasoningBlock | None:
    blocks = screen.query(f"#pane-{side} ReasoningBlock").results(ReasoningBlock)
    return next(iter(blocks), None)


def drawn(block: ReasoningBlock) -> str:
    return str(block.render())


@pytest.mark.parametrize("api", ["chat", "responses"])
async def test_each_pane_shows_its_sides_reasoning_and_the_figures_tell_it_from_the_answer(
    fake_server: FakeLLMServer, api: str
) -> None:
    script = Script(reasoning=THOUGHTS, chunks=["Four", "."], hold_after=0)
    fake_server.enqueue(script, script)
    app = make_app(fake_server)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = CompareScreen(*contenders(fake_server, api))
        await app.push_screen(screen)
        screen.query_one(PromptInput).load_text("2+2?")
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(fake_server.requests) == 2)

        # Held after the reasoning: the streaming side thinks out loud, the other waits.
        def thinking_live() -> bool:
            block = pane_reasoning(screen, "left")
            return block is not None and "make four." in drawn(block)

        await wait_for(pilot, thinking_live)
        left = pane_reasoning(screen, "left")
        assert left is not None and not left.folded
        assert drawn(left).startswith("thinking…")
        assert pane_reply(screen, "left").text == ""
        await wait_for(pilot, lambda: "first reasoning" in pane_stats(screen, "left"))
        assert "waiting for the first words" in pane_stats(screen, "left")
        assert pane_reasoning(screen, "right") is None
        assert pane_reply(screen, "right").status == "waiting"

        fake_server.release()
        await wait_for(pilot, lambda: not screen.busy)
        for side in SIDES:
            block = pane_reasoning(screen, side)
            assert block is not None and block.folded, side
            assert block.text == "Two and two make four."
            assert pane_reply(screen, side).text == "Four."
            # Shown, never context: the next prompt goes without it.
            assert screen.contenders[side].conversation.messages[-1] == ChatMessage(
                "assistant", "Four."
            )
        assert drawn(left).startswith("▸ thought for ")
        # The whole reply's reasoning is folded above it, with no reasoning time of its
        # own in the figures (it came with the answer).
        right = pane_reasoning(screen, "right")
        assert right is not None and drawn(right).startswith("▸ thought")
        left_stats = pane_stats(screen, "left")
        assert "first reasoning" in left_stats and "first token" in left_stats
        right_stats = pane_stats(screen, "right")
        assert "reasoning came with the answer" in right_stats and "thought" not in right_stats
        verdict = str(screen.query_one("#verdict").render())
        assert "First reasoning: streaming " in verdict
        assert "(with its answer)" in verdict


async def test_a_folded_reasoning_line_is_reached_by_keyboard_and_opens_with_enter(
    fake_server: FakeLLMServer,
) -> None:
    script = Script(reasoning=THOUGHTS, chunks=["Four."])
    fake_server.enqueue(script, script)
    app = make_app(fake_server)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = CompareScreen(*contenders(fake_server))
        await app.push_screen(screen)
        screen.query_one(PromptInput).load_text("2+2?")
        await pilot.press("enter")
        await wait_for(pilot, lambda: not screen.busy)
        block = pane_reasoning(screen, "right")
        assert block is not None and block.folded
        await pilot.press("shift+tab")  # from the prompt: the right pane's last focusable
        await wait_for(pilot, lambda: app.focused is block)
        assert screen.query_one("#pane-right").has_class("-focused")
        await pilot.press("enter")
        await wait_for(pilot, lambda: drawn(block).endswith("Two and two make four."))
        assert drawn(block).startswith("▾ thought")


async def test_a_side_without_reasoning_shows_no_reasoning_figures(
    fake_server: FakeLLMServer,
) -> None:
    fake_server.enqueue(Script(chunks=["plain"]), Script(chunks=["plain"]))
    app = make_app(fake_server)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = CompareScreen(*contenders(fake_server))
        await app.push_screen(screen)
        screen.query_one(PromptInput).load_text("hi")
        await pilot.press("enter")
        await wait_for(pilot, lambda: not screen.busy)
        for side in SIDES:
            assert pane_reasoning(screen, side) is None
            assert "reasoning" not in pane_stats(screen, side)
        assert "reasoning" not in str(screen.query_one("#verdict").render())
