"""F3 after a reply shows that reply's wire events: the inspector keeps a bounded copy
of the last reply's events while it is closed."""

from __future__ import annotations

from textual.widgets import RichLog

from tui_chat.ui.app import ChatApp
from tui_chat.ui.widgets.inspector import MAX_EVENTS, EventInspector

from .app_factory import make_app, replies, send, wait_for
from fake_server import FakeLLMServer, Script


def inspector_lines(app: ChatApp) -> list[str]:
    return [strip.text for strip in app.query_one(EventInspector).query_one(RichLog).lines]


async def test_f3_after_a_reply_shows_its_events(fake_server: FakeLLMServer) -> None:
    fake_server.enqueue(Script(chunks=["first ", "reply"]))
    fake_server.enqueue(Script(chunks=["second ", "reply"]))
    app = make_app(fake_server, api="backend")
    async with app.run_test() as pilot:
        await send(pilot, "one")
        await wait_for(pilot, lambda: replies(app)[0].status == "complete")
        await send(pilot, "two")
        await wait_for(
            pilot, lambda: len(replies(app)) == 2 and replies(app)[1].status == "complete"
        )
        assert not app.query_one(EventInspector).display
        await pilot.press("f3")
        await wait_for(pilot, lambda: inspector_lines(app) != [])
        lines = "\n".join(inspector_lines(app))
        assert 'backend:text "second "' in lines and 'backend:text "reply"' in lines
        assert "first" not in lines, "only the last reply"


async def test_the_copy_kept_while_closed_is_bounded(fake_server: FakeLLMServer) -> None:
    chunks = [f"w{n} " for n in range(MAX_EVENTS + 50)]
    fake_server.enqueue(Script(chunks=chunks))
    app = make_app(fake_server, api="backend")
    async with app.run_test() as pilot:
        await send(pilot, "many")
        await wait_for(pilot, lambda: replies(app)[0].status == "complete", timeout=20)
        inspector = app.query_one(EventInspector)
        assert len(inspector._events) == MAX_EVENTS and inspector.dropped == 50
        await pilot.press("f3")
        await wait_for(pilot, lambda: len(inspector_lines(app)) == MAX_EVENTS)
        assert f'"w{MAX_EVENTS + 49} "' in inspector_lines(app)[-1], "the newest are kept"
