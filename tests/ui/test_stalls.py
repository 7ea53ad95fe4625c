"""Stalls, retries and empty replies as the app shows them, against the real fake server.

The "no data" threshold is the reply widget's class attribute, set small here, so no
test waits ten seconds; nothing is timed beyond "happens within a generous bound".
"""

from __future__ import annotations

import pytest

from tui_chat.cli import build_parser, main, settings_from_args
from tui_chat.settings.config import Settings
from tui_chat.ui.app import ChatApp
from tui_chat.ui.widgets.conversation.message import AssistantMessage
from tui_chat.ui.widgets.conversation.notices import ErrorNotice
from tui_chat.ui.widgets.conversation.reply_body import ReplyBody

from .app_factory import make_app, replies, send, shown_text, wait_for
from fake_server import FakeLLMServer, Script


@pytest.fixture
def quick_stall_notice(monkeypatch: pytest.MonkeyPatch) -> None:
    """Say "no data" after 0.3 s instead of 10 s."""
    monkeypatch.setattr(AssistantMessage, "stall_notice_after", 0.3)


def indicator_line(app: ChatApp) -> str:
    """What the reply says while it waits, as drawn in its first row."""
    shown = app.query(AssistantMessage)
    if not shown or not shown.last().waiting:
        return ""
    body = shown.last().query_one(ReplyBody)
    return body.render_line(0).text


def meta(reply: AssistantMessage) -> str:
    return str(reply.query_one("#meta").render())


@pytest.mark.usefixtures("quick_stall_notice")
async def test_waiting_with_no_data_says_for_how_long_and_that_esc_stops(
    fake_server: FakeLLMServer,
) -> None:
    fake_server.enqueue(Script(fault="no_answer"))
    app = make_app(fake_server)
    async with app.run_test() as pilot:
        await send(pilot, "hello?")
        await wait_for(pilot, lambda: "no data for" in indicator_line(app))
        assert "Esc stops" in indicator_line(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not app.chat.replying)
        assert "no data" not in indicator_line(app)


@pytest.mark.usefixtures("quick_stall_notice")
async def test_a_stall_mid_stream_is_said_under_the_reply_and_goes_when_text_resumes(
    fake_server: FakeLLMServer,
) -> None:
    fake_server.enqueue(Script(chunks=["Half ", "a ", "reply, ", "then more."], hold_after=2))
    app = make_app(fake_server)
    async with app.run_test() as pilot:
        await send(pilot, "hello")
        await wait_for(pilot, lambda: bool(replies(app)) and replies(app)[0].status == "streaming")
        reply = replies(app)[0]
        await wait_for(pilot, lambda: "no data for" in meta(reply))
        assert "Esc stops" in meta(reply)
        fake_server.release()
        await wait_for(pilot, lambda: reply.status == "complete")
        assert "no data" not in meta(reply) and "total" in meta(reply)
        assert shown_text(reply) == "Half a reply, then more."


async def test_the_idle_timeout_ends_a_silent_reply_with_how_long_it_waited_and_what_to_do(
    fake_server: FakeLLMServer,
) -> None:
    fake_server.enqueue(Script(fault="no_answer"))
    app = make_app(fake_server, timeout=1)
    async with app.run_test() as pilot:
        await send(pilot, "hello?")
        await wait_for(pilot, lambda: bool(app.query(ErrorNotice)), timeout=10)
        notice = str(app.query_one(ErrorNotice).render())
        assert "No data" in notice and "1 s" in notice and "--timeout" in notice
        assert replies(app)[0].status == "error"
    assert len(fake_server.requests) == 1


@pytest.mark.parametrize("api", ["chat", "backend"])
async def test_a_retry_is_shown_in_the_reply_then_the_text_arrives(
    fake_server: FakeLLMServer, api: str
) -> None:
    fake_server.enqueue(Script(status=503, retry_after="1"))
    app = make_app(fake_server, api=api, max_retries=2)
    async with app.run_test() as pilot:
        await send(pilot, "hello")
        await wait_for(pilot, lambda: "retrying 1/2 in" in indicator_line(app))
        assert "server said 503" in indicator_line(app)
        reply = replies(app)[0]
        await wait_for(pilot, lambda: reply.status == "complete")
        assert shown_text(reply) == Script().text
        assert not app.query(ErrorNotice)
    assert len(fake_server.requests) == 2


@pytest.mark.parametrize("api", ["responses", "chat", "backend"])
async def test_an_empty_reply_says_it_was_empty(fake_server: FakeLLMServer, api: str) -> None:
    fake_server.enqueue(Script(chunks=[], usage=None), Script())
    app = make_app(fake_server, api=api)
    async with app.run_test() as pilot:
        await send(pilot, "say nothing")
        await wait_for(pilot, lambda: replies(app)[0].status == "complete")
        assert meta(replies(app)[0]).startswith("∅ empty reply · total ")
        await send(pilot, "say something")
        await wait_for(
            pilot, lambda: len(replies(app)) == 2 and replies(app)[1].status == "complete"
        )
        assert "empty" not in meta(replies(app)[1])


@pytest.mark.parametrize("command", ["chat", "ask", "serve"])
def test_the_timeout_flag_sets_the_idle_timeout(command: str) -> None:
    args = build_parser()[command].parse_args(["--timeout", "2.5"])
    assert settings_from_args(args, Settings()).timeout == 2.5
    unset = build_parser()[command].parse_args([])
    assert settings_from_args(unset, Settings()).timeout == 30.0


@pytest.mark.parametrize("value", ["0", "-1", "soon", "inf", "nan"])
def test_a_bad_timeout_is_one_line_and_exit_2(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["ask", "--timeout", value, "hi"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "argument --timeout" in err and "seconds" in err
