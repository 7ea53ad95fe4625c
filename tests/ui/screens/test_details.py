"""F4: the figures of the last reply, beyond the one-line summary."""

from __future__ import annotations

from textual.geometry import Region
from textual.widgets import Static

from tui_chat.ui.screens.details import ReplyDetails

from ..app_factory import make_app, replies, send, wait_for
from fake_server import FakeLLMServer, Script


async def test_f4_shows_chunks_gaps_and_usage_of_the_last_reply(
    fake_server: FakeLLMServer,
) -> None:
    fake_server.enqueue(Script(chunks=["a"] * 3, delay=0.05))
    fake_server.enqueue(Script(chunks=["b"] * 6, delay=0.2, usage=(12, 34)))
    app = make_app(fake_server, api="chat")
    async with app.run_test() as pilot:
        await pilot.press("f4")
        assert not isinstance(app.screen, ReplyDetails), "nothing to show before a reply"
        for prompt in ("one", "two"):
            await send(pilot, prompt)
            await wait_for(pilot, lambda: replies(app)[-1].status == "complete")
        await wait_for(pilot, lambda: len(replies(app)) == 2)
        await pilot.press("f4")
        await wait_for(pilot, lambda: isinstance(app.screen, ReplyDetails))
        details = app.screen.query_one("#details", Static)
        lines = [strip.text for strip in details.render_lines(Region(0, 0, *details.size))]
        shown = {line.split("  ")[0].strip(): line.split("  ", 1)[-1].strip() for line in lines}
        assert shown["chunks"] == "6"
        assert shown["output tokens"] == "34" and shown["input tokens"] == "12"
        worst = float(shown["gap between chunks, worst"].rstrip("s"))
        assert 0.15 <= worst <= 1.0, "the second reply's scripted 0.2 s gaps"
        await pilot.press("escape")
        assert not isinstance(app.screen, ReplyDetails)
