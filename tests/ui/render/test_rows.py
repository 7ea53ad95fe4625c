"""A partial update renders only its rows, and the screen it makes is the same."""

from __future__ import annotations

from textual._compositor import Compositor
from textual.geometry import Region

from tui_chat.ui.render.rows import render_only_dirty_rows
from tui_chat.ui.widgets.conversation.reply_body import ReplyBody

from ..app_factory import make_app, replies, send, wait_for
from fake_server import FakeLLMServer, Script

CROPS = [
    Region(3, 5, 70, 1),  # a line of the log
    Region(4, 3, 20, 1),  # inside the reply
    Region(3, 5, 70, 3),
    Region(0, 0, 120, 40),  # everything
    Region(0, 36, 120, 4),  # the prompt and footer
    Region(50, 10, 4, 20),  # a narrow column through the log
    Region(0, 0, 30, 40),  # the sidebar's side
]


def chops_in_crop(compositor: Compositor, crop: Region) -> list[dict[int, object]]:
    rows = set(range(crop.y, crop.bottom))
    chops = compositor._render_chops(crop, rows.__contains__)
    ends = [cuts[1:] for cuts in compositor.cuts]
    return [
        {
            x: strip
            for (x, strip), end in zip(chops[y].items(), ends[y], strict=False)
            if crop.x < end and x < crop.right
        }
        for y in sorted(rows)
    ]


async def test_rendering_only_the_dirty_rows_gives_the_same_cells(
    fake_server: FakeLLMServer,
) -> None:
    text = (
        "# Title\n\n"
        + "A line of text that wraps around the log. " * 20
        + "\n\n```py\nx = 1\n```\n"
    )
    fake_server.enqueue(Script(chunks=[text]))
    app = make_app(fake_server)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "go")
        await wait_for(pilot, lambda: bool(replies(app)) and replies(app)[0].status == "complete")
        await pilot.press("ctrl+b")  # the chat list: widgets side by side
        await pilot.pause(0.2)
        compositor = app.screen._compositor
        for crop in CROPS:
            want = chops_in_crop(compositor, crop)
            render_only_dirty_rows(compositor)
            got = chops_in_crop(compositor, crop)
            del compositor._get_renders
            compositor._renders_rows_only = False  # type: ignore[attr-defined]
            assert got == want, crop
            assert any(strip is not None for row in got for strip in row.values())


async def test_a_one_line_update_asks_no_widget_for_rows_outside_it(
    fake_server: FakeLLMServer,
) -> None:
    fake_server.enqueue(Script(chunks=["Hello there, a short reply."]))
    app = make_app(fake_server)
    async with app.run_test(size=(80, 24)) as pilot:
        await send(pilot, "go")
        await wait_for(pilot, lambda: bool(replies(app)) and replies(app)[0].status == "complete")
        compositor = app.screen._compositor
        render_only_dirty_rows(compositor)
        body = replies(app)[0].query_one(ReplyBody)
        line = Region(body.region.x, body.region.y, body.region.width, 1)
        asked = [rows for rows, _clip, _strips in compositor._get_renders(line)]
        assert asked == [line], "only the reply's body, which covers the line, is asked"
        wider = line.grow((0, 1, 0, 1))  # one cell more each side: the log shows there too
        asked = [rows for rows, _clip, _strips in compositor._get_renders(wider)]
        assert len(asked) > 1 and all(rows.y == line.y and rows.height == 1 for rows in asked)
