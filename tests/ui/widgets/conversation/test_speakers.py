"""Who is speaking reads from the glyphs alone, as with NO_COLOR or a mono terminal."""

from __future__ import annotations

from ...app_factory import make_app, replies, send, wait_for
from fake_server import FakeLLMServer, Script


async def test_the_users_turns_and_the_replies_have_different_bars(
    fake_server: FakeLLMServer,
) -> None:
    fake_server.enqueue(Script(chunks=["A reply from the model."]))
    app = make_app(fake_server)
    async with app.run_test(size=(80, 24)) as pilot:
        await send(pilot, "A question from the user")
        await wait_for(pilot, lambda: bool(replies(app)) and replies(app)[0].status == "complete")
        await pilot.pause(0.1)
        rows = [strip.text for strip in app.screen._compositor.render_strips()]
    asked = next(row for row in rows if "A question from the user" in row)
    answered = next(row for row in rows if "A reply from the model." in row)
    bar = asked.index("A question") - 2  # the bar, then a cell of padding
    assert asked[bar] != answered[bar] and asked[bar].strip() and answered[bar].strip()
    assert {asked[bar], answered[bar]} <= set("█│▌▐┃"), "glyphs the Linux console has"
