"""A growing reply lays the screen out once per growth, not twice, and stays followed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import App, ComposeResult

from tui_chat.ui.widgets.conversation.chat_log import ChatLog
from tui_chat.ui.widgets.conversation.message import AssistantMessage
from tui_chat.ui.widgets.conversation.reply_body import ReplyBody

PARAGRAPH = "Streaming text that wraps over a few lines of the log, then ends here.\n\n"


class Host(App[None]):
    def compose(self) -> ComposeResult:
        with ChatLog():
            yield AssistantMessage()


def counting(calls: list[int], method: Callable[..., Any]) -> Callable[..., Any]:
    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return method(*args, **kwargs)

    return counted


async def test_a_growing_reply_is_laid_out_once_per_jump_and_followed() -> None:
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        reply, log = app.query_one(AssistantMessage), app.query_one(ChatLog)
        body = app.query_one(ReplyBody)
        await reply.append("First words.\n\n")
        await pilot.pause()
        layouts: list[int] = []
        app.screen._refresh_layout = counting(layouts, app.screen._refresh_layout)  # type: ignore[method-assign]
        heights = {body.size.height}
        for _ in range(30):
            await reply.append(PARAGRAPH)
            await pilot.pause(0.06)  # past the reply's frame: every append is drawn
            heights.add(body.size.height)
            drawn = [y for y, strip in enumerate(body._lines) if strip.text.strip()]
            bottom = body.region.y + drawn[-1] - log.region.y
            assert 0 <= bottom < log.size.height, "the newest line is on screen"
        jumps = len(heights) - 1
        assert jumps >= 5
        assert len(layouts) <= jumps + 2, f"{len(layouts)} layouts for {jumps} jumps"


async def test_the_first_words_take_the_waiting_rows_place_without_a_layout() -> None:
    """Between the server's first token and the screen there is no widget to remove
    and no layout: the words replace the "thinking…" row in place."""
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        reply, body = app.query_one(AssistantMessage), app.query_one(ReplyBody)
        await pilot.pause()
        assert "thinking…" in body.render_line(0).text, "the wait is said in the first row"
        layouts: list[int] = []
        app.screen._refresh_layout = counting(layouts, app.screen._refresh_layout)  # type: ignore[method-assign]
        await reply.append("First words.")
        assert body.lines_repainted == (0,), "one row repainted"
        await pilot.pause()
        assert body.render_line(0).text.startswith("First words.")
        assert not layouts, "no layout before the first words show"


async def test_a_theme_change_mid_reply_keeps_the_newest_lines_on_screen() -> None:
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        reply, log = app.query_one(AssistantMessage), app.query_one(ChatLog)
        body = app.query_one(ReplyBody)
        await reply.append("First words.\n\n")
        for _ in range(6):
            await reply.append(PARAGRAPH)
            await pilot.pause(0.06)
        app.theme = "textual-light"
        for _ in range(3):
            await reply.append(PARAGRAPH)  # before the next layout
        await pilot.pause(0.3)
        for _ in range(2):
            await reply.append("more words here ")
            await pilot.pause(0.1)
        drawn = [y for y, strip in enumerate(body._lines) if strip.text.strip()]
        assert drawn[-1] < body.size.height, "the newest line is inside the body"
        assert 0 <= body.region.y + drawn[-1] - log.region.y < log.size.height


async def test_a_model_that_thinks_first_keeps_no_blank_room_under_its_thinking() -> None:
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        reply, body = app.query_one(AssistantMessage), app.query_one(ReplyBody)
        await pilot.pause()
        assert body.size.height > 1, "room kept while it waits"
        await reply.append_reasoning("Let me think about this.")
        await pilot.pause()
        assert body.size.height == 0, "no blank rows between the thinking and the meta line"
        await reply.append("The answer.")
        await pilot.pause()
        assert body.render_line(0).text.startswith("The answer.")
