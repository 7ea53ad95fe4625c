"""A reply's own rows (the bar at its side) are rendered once and repeated."""

from __future__ import annotations

import pytest
from textual.widget import Widget

from ...app_factory import make_app, replies, send, wait_for
from fake_server import FakeLLMServer, Script


@pytest.mark.parametrize("state", ["streamed", "-selected", "-error", "-stopped"])
async def test_a_replys_rows_are_the_rows_textual_renders(
    fake_server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch, state: str
) -> None:
    if state == "-stopped":
        monkeypatch.setenv("NO_COLOR", "1")  # Textual's Monochrome filter on every row
    fake_server.enqueue(Script(chunks=["A reply that runs over some lines.\n\n" * 12]))
    app = make_app(fake_server)
    async with app.run_test(size=(60, 30)) as pilot:
        await send(pilot, "go")
        await wait_for(pilot, lambda: bool(replies(app)) and replies(app)[0].status == "complete")
        reply = replies(app)[0]
        if state != "streamed":
            reply.add_class(state)
        await pilot.pause()
        whole = reply.size.region
        rendered: list[int] = []
        content_line = reply.render_line

        def counted(y: int):  # type: ignore[no-untyped-def]
            rendered.append(y)
            return content_line(y)

        reply.render_line = counted  # type: ignore[method-assign]
        reply._styles_cache.clear()
        got = reply.render_lines(whole)
        assert len(rendered) == 1, "one row rendered for all"
        reply._styles_cache.clear()
        want = Widget.render_lines(reply, whole)
        assert len(got) == len(want) == reply.size.height > 10
        assert got == want
        assert got[0].text.startswith(("│", "║", "┃", "|"))
