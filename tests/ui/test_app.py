"""The real app, driven by Pilot, wired to the scripted fake LLM server over real HTTP."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest
from textual import events

from tui_chat.ui.app import typed_text
from tui_chat.ui.widgets.conversation.chat_log import ChatLog
from tui_chat.ui.widgets.conversation.message import AssistantMessage, UserMessage
from tui_chat.ui.widgets.conversation.notices import ErrorNotice
from tui_chat.ui.widgets.conversation.reply_body import ReplyBody
from tui_chat.ui.widgets.prompt import PromptInput

from .app_factory import KEY, make_app, replies, send, shown_text, wait_for
from fake_server import FakeLLMServer, Script


def shown_lines(reply: AssistantMessage) -> str:
    """The rows the reply's body draws."""
    body = reply.query_one(ReplyBody)
    return "\n".join(body.render_line(y).text for y in range(body.size.height))


@pytest.fixture
def unused_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("api", ["responses", "chat", "backend"])
async def test_reply_streams_in_order_and_indicator_goes(
    fake_server: FakeLLMServer, api: str
) -> None:
    chunks = ["The ", "quick ", "brown ", "fox ", "jumps."]
    fake_server.enqueue(Script(chunks=chunks, hold_after=0))
    app = make_app(fake_server, api=api)
    async with app.run_test() as pilot:
        await send(pilot, "hello")
        await wait_for(pilot, lambda: len(fake_server.requests) == 1)
        reply = replies(app)[0]
        assert "thinking…" in reply.waiting, "the reply says it waits before the first token"
        assert "thinking…" in shown_lines(reply)
        fake_server.release()
        await wait_for(pilot, lambda: reply.status == "complete")
        assert not reply.waiting and "thinking" not in shown_lines(reply)
        assert reply.text == "".join(chunks)
        assert shown_text(reply) == "".join(chunks)
        meta = str(reply.query_one("#meta").render())
        assert "first token" in meta and "tok/s" in meta


async def test_partial_text_on_screen_while_server_holds_the_rest(
    fake_server: FakeLLMServer,
) -> None:
    fake_server.enqueue(Script(chunks=["Alpha ", "beta ", "gamma ", "delta"], hold_after=2))
    app = make_app(fake_server)
    async with app.run_test() as pilot:
        await send(pilot, "count")
        reply = replies(app)[0]
        await wait_for(pilot, lambda: shown_text(reply) == "Alpha beta ")
        await pilot.pause(0.2)
        assert shown_text(reply) == "Alpha beta ", "nothing past the held point"
        assert reply.status == "streaming"
        fake_server.release()
        await wait_for(pilot, lambda: reply.status == "complete")
        assert shown_text(reply) == "Alpha beta gamma delta"


async def test_escape_stops_keeps_partial_and_closes_the_stream(fake_server: FakeLLMServer) -> None:
    fake_server.enqueue(Script(chunks=["Partial ", "answer ", "never ", "sent"], hold_after=2))
    app = make_app(fake_server)
    async with app.run_test() as pilot:
        await send(pilot, "tell me")
        reply = replies(app)[0]
        await wait_for(pilot, lambda: reply.text == "Partial answer ")
        await pilot.press("escape")
        await wait_for(pilot, lambda: reply.status == "stopped")
        assert await asyncio.to_thread(fake_server.disconnected.wait, 5), (
            "server saw the disconnect"
        )
        assert shown_text(reply) == "Partial answer "
        assert "stopped" in str(reply.query_one("#meta").render())
        assert reply.has_class("-stopped")
        # The stopped reply stays in the conversation and is sent as context next time.
        fake_server.enqueue(Script(chunks=["ok"]))
        await send(pilot, "go on")
        await wait_for(pilot, lambda: replies(app)[-1].status == "complete")
        sent = fake_server.requests[-1].json["messages"]
        assert [m["content"] for m in sent] == ["tell me", "Partial answer ", "go on"]


@pytest.mark.parametrize(
    ("api", "script", "needle"),
    [
        ("chat", Script(status=500, error_message="the GPU caught fire"), "the GPU caught fire"),
        ("chat", Script(status=401), "API key"),
        ("responses", Script(fault="failed", error_message="model overloaded"), "model overloaded"),
        ("backend", Script(status=400, error_message="Message is required"), "Message is required"),
        ("backend", Script(fault="trailing_error"), "rror"),
    ],
)
async def test_error_shows_message_and_restores_prompt(
    fake_server: FakeLLMServer, api: str, script: Script, needle: str
) -> None:
    fake_server.enqueue(script)
    app = make_app(fake_server, api=api)
    async with app.run_test() as pilot:
        await send(pilot, "my precious prompt")
        await wait_for(pilot, lambda: bool(app.query(ErrorNotice)))
        notice = str(app.query_one(ErrorNotice).render())
        assert needle in notice
        assert KEY not in notice
        assert app.query_one(PromptInput).text == "my precious prompt"
        assert app.chat.conversation.messages == []
        assert replies(app)[0].status == "error"
        # The app is still usable: the retry goes through.
        fake_server.enqueue(Script(chunks=["recovered"]))
        await pilot.press("enter")
        await wait_for(pilot, lambda: replies(app)[-1].status == "complete")
        assert replies(app)[-1].text == "recovered"
        assert [m.content for m in app.chat.conversation.messages] == [
            "my precious prompt",
            "recovered",
        ]


async def test_unreachable_server_is_a_clear_error(unused_port: int) -> None:
    app = make_app(base_url=f"http://127.0.0.1:{unused_port}/v1", timeout=2)
    async with app.run_test() as pilot:
        await send(pilot, "anyone there?")
        await wait_for(pilot, lambda: bool(app.query(ErrorNotice)))
        assert f"127.0.0.1:{unused_port}" in str(app.query_one(ErrorNotice).render())
        assert app.query_one(PromptInput).text == "anyone there?"


async def test_multi_turn_sends_earlier_turns(fake_server: FakeLLMServer) -> None:
    fake_server.enqueue(Script(chunks=["First ", "answer."]), Script(chunks=["Second."]))
    app = make_app(fake_server, system="Be terse.")
    async with app.run_test() as pilot:
        await send(pilot, "one")
        await wait_for(pilot, lambda: replies(app)[0].status == "complete")
        await send(pilot, "two")
        await wait_for(
            pilot, lambda: len(replies(app)) == 2 and replies(app)[1].status == "complete"
        )
        sent = fake_server.requests[-1].json["messages"]
        assert sent == [
            {"role": "system", "content": "Be terse."},
            {"role": "user", "content": "one"},
            {"role": "assistant", "content": "First answer."},
            {"role": "user", "content": "two"},
        ]


async def test_enter_pressed_twice_at_once_sends_once_and_warns_of_nothing(
    fake_server: FakeLLMServer,
) -> None:
    """The second Enter comes before the box is emptied (that waits for the request to
    be out), so it submits the same text again: that is not a second prompt."""
    fake_server.enqueue(Script(chunks=["Once."]))
    app = make_app(fake_server)
    async with app.run_test() as pilot:
        prompt = app.query_one(PromptInput)
        prompt.focus()
        prompt.load_text("only once")
        for _ in range(2):  # both queued before the first is handled
            app.post_message(events.Key("enter", "\r"))
        await wait_for(pilot, lambda: bool(replies(app)) and replies(app)[0].status == "complete")
        await pilot.pause(0.1)
        assert [r.json["messages"][-1]["content"] for r in fake_server.requests] == ["only once"]
        assert not [n.message for n in app._notifications]
        assert prompt.text == ""


async def test_a_new_prompt_typed_and_sent_at_once_after_enter_is_refused_with_a_warning(
    fake_server: FakeLLMServer,
) -> None:
    """Unlike a repeated Enter, a prompt with more typed after the sent one is the
    user's next prompt: refused while the reply runs, said so, and kept in the box."""
    fake_server.enqueue(Script(chunks=["still ", "going"], hold_after=1))
    app = make_app(fake_server)
    async with app.run_test() as pilot:
        prompt = app.query_one(PromptInput)
        prompt.focus()
        prompt.load_text("hello")
        prompt.move_cursor(prompt.document.end)
        for key, char in [("enter", "\r"), ("x", "x"), ("y", "y"), ("enter", "\r")]:
            app.post_message(events.Key(key, char))  # all queued before the first is handled
        await wait_for(pilot, lambda: any("still coming" in n.message for n in app._notifications))
        assert prompt.text == "xy"
        # A release counts only for a request already there (the SDK may still be loading).
        await wait_for(pilot, lambda: len(fake_server.requests) == 1)
        fake_server.release()
        await wait_for(pilot, lambda: bool(replies(app)) and replies(app)[0].status == "complete")
        assert [r.json["messages"][-1]["content"] for r in fake_server.requests] == ["hello"]
        assert prompt.text == "xy"


async def test_new_prompt_while_replying_is_refused_not_cancelling(
    fake_server: FakeLLMServer,
) -> None:
    fake_server.enqueue(Script(chunks=["still ", "going"], hold_after=1))
    app = make_app(fake_server)
    async with app.run_test() as pilot:
        await send(pilot, "first")
        reply = replies(app)[0]
        await wait_for(pilot, lambda: reply.text == "still ")
        await send(pilot, "second")
        await pilot.pause(0.1)
        assert app.query_one(PromptInput).text == "second", "refused text stays in the box"
        assert len(fake_server.requests) == 1
        assert any("still coming" in n.message for n in app._notifications)
        fake_server.release()
        await wait_for(pilot, lambda: reply.status == "complete")
        assert reply.text == "still going"
        assert len(app.query(UserMessage)) == 1


async def test_toggle_streaming_sends_non_streaming_request(fake_server: FakeLLMServer) -> None:
    fake_server.enqueue(Script(chunks=["whole ", "reply ", "at once"], hold_after=0))
    app = make_app(fake_server)
    async with app.run_test() as pilot:
        await pilot.press("ctrl+t")
        assert app.chat.streaming is False
        await send(pilot, "no stream please")
        await wait_for(pilot, lambda: len(fake_server.requests) == 1 and bool(replies(app)))
        reply = replies(app)[0]
        assert "waiting for the whole reply" in reply.waiting and reply.text == ""
        fake_server.release()
        await wait_for(pilot, lambda: reply.status == "complete")
        assert reply.text == "whole reply at once"
        assert not fake_server.requests[0].json.get("stream")


async def test_no_stream_setting_starts_with_streaming_off(fake_server: FakeLLMServer) -> None:
    app = make_app(fake_server, api="backend", stream=False)
    async with app.run_test() as pilot:
        assert app.chat.streaming is False
        await send(pilot, "hi")
        await wait_for(pilot, lambda: replies(app)[0].status == "complete")
        assert fake_server.requests[0].path == "/api/chat"


async def test_control_sequences_from_the_model_never_reach_the_screen(
    fake_server: FakeLLMServer,
) -> None:
    fake_server.enqueue(Script(chunks=["safe ", "\x1b[2J\x1b]52;c;aGk=\x07", "[b]text[/b]"]))
    app = make_app(fake_server)
    async with app.run_test() as pilot:
        await send(pilot, "be evil")
        reply = replies(app)[0]
        await wait_for(pilot, lambda: reply.status == "complete")
        assert "\x1b" not in reply.text and "\x07" not in reply.text
        assert reply.text == "safe [b]text[/b]", "each sequence goes whole, no residue"
        await pilot.pause(0.1)
        body = reply.query_one(ReplyBody)
        drawn = "".join(body.render_line(y).text for y in range(body.size.height))
        assert "[b]text[/b]" in drawn, "shown as written, not parsed as markup"
        assert "\x1b" not in drawn and "\x07" not in drawn


async def test_log_follows_new_text_until_the_user_scrolls_up(fake_server: FakeLLMServer) -> None:
    lines = [f"line {n}\n\n" for n in range(40)]
    fake_server.enqueue(Script(chunks=lines, hold_after=20))
    app = make_app(fake_server)
    async with app.run_test(size=(80, 24)) as pilot:
        log = app.query_one(ChatLog)
        await send(pilot, "a long one")
        reply = replies(app)[0]
        await wait_for(pilot, lambda: reply.text.endswith("line 19\n\n"))
        await pilot.pause(0.1)
        assert log.max_scroll_y > 0 and log.scroll_y == log.max_scroll_y, "following the bottom"
        await pilot.press("pageup")
        await pilot.pause(0.1)
        reading_at = log.scroll_y
        assert reading_at < log.max_scroll_y
        fake_server.release()
        await wait_for(pilot, lambda: reply.status == "complete")
        await pilot.pause(0.1)
        assert log.scroll_y == reading_at, "the log let go while the user reads"
        for _ in range(30):
            await pilot.press("pagedown")
        fake_server.enqueue(Script(chunks=[f"more {n}\n\n" for n in range(20)]))
        await send(pilot, "and more")
        await wait_for(pilot, lambda: replies(app)[-1].status == "complete")
        await pilot.pause(0.1)
        assert log.scroll_y == log.max_scroll_y, "back at the bottom, it follows again"


async def test_ctrl_j_inserts_a_newline_and_enter_sends_all_lines(
    fake_server: FakeLLMServer,
) -> None:
    app = make_app(fake_server)
    async with app.run_test() as pilot:
        await pilot.press("f", "i", "r", "s", "t", "ctrl+j", "s", "e", "c", "o", "n", "d")
        assert app.query_one(PromptInput).text == "first\nsecond"
        await pilot.press("enter")
        await wait_for(pilot, lambda: bool(replies(app)) and replies(app)[0].status == "complete")
        assert fake_server.requests[0].json["messages"][-1]["content"] == "first\nsecond"
        assert app.query_one(PromptInput).text == ""


async def test_enter_on_a_blank_prompt_sends_nothing(fake_server: FakeLLMServer) -> None:
    app = make_app(fake_server)
    async with app.run_test() as pilot:
        await pilot.press("space", "enter")
        await pilot.pause(0.2)
        assert not fake_server.requests and not replies(app)


async def test_escape_before_the_first_word_takes_the_prompt_back(
    fake_server: FakeLLMServer, tmp_path: Path
) -> None:
    """Nothing arrived, so nothing is kept: no "stopped · ~0 tokens" turn, prompt in the box."""
    from tui_chat.history import HistoryStore

    fake_server.enqueue(Script(chunks=["never", " shown"], hold_after=0))
    with HistoryStore.open(tmp_path / "h.sqlite3") as store:
        app = make_app(fake_server, store=store, model="m")
        async with app.run_test() as pilot:
            await send(pilot, "second thoughts")
            await wait_for(pilot, lambda: len(fake_server.requests) == 1)
            await pilot.press("escape")
            await wait_for(pilot, lambda: not app.chat.replying)
            assert not app.query(AssistantMessage) and not app.query(UserMessage)
            assert app.query_one(PromptInput).text == "second thoughts"
            assert app.chat.conversation.messages == []
            assert store.list_conversations() == [], "the empty turn left history too"
            fake_server.release()


async def test_a_draft_typed_while_replying_is_kept_when_the_reply_fails(
    fake_server: FakeLLMServer,
) -> None:
    fake_server.enqueue(Script(chunks=["x"], hold_after=0, fault="disconnect"))
    app = make_app(fake_server)
    async with app.run_test() as pilot:
        await send(pilot, "the first question")
        await wait_for(pilot, lambda: len(fake_server.requests) == 1)
        await pilot.press(*"follow-up")
        fake_server.release()
        await wait_for(pilot, lambda: bool(app.query(ErrorNotice)))
        assert app.query_one(PromptInput).text == "follow-up", "never joined to the failed prompt"
        assert "draft" in str(app.query_one(ErrorNotice).render())
        assert "the first question" in str(app.query_one(UserMessage).render())


async def test_a_failing_worker_is_never_silent(fake_server: FakeLLMServer) -> None:
    app = make_app(fake_server)

    async def boom() -> None:
        raise RuntimeError("the disk caught fire")

    async with app.run_test() as pilot:
        app.run_worker(boom(), group="models", exit_on_error=False)
        await wait_for(pilot, lambda: bool(app._notifications))
        (notice,) = list(app._notifications)
        assert notice.severity == "error" and "the disk caught fire" in notice.message
        assert app.is_running


async def test_the_prompt_caret_stops_blinking_while_a_reply_streams(
    fake_server: FakeLLMServer,
) -> None:
    """Each blink repaints a cell; over a slow link that is bytes the reply needs."""
    fake_server.enqueue(Script(chunks=["still ", "coming"], hold_after=1))
    app = make_app(fake_server)
    async with app.run_test() as pilot:
        prompt = app.query_one(PromptInput)
        assert prompt.cursor_blink
        await send(pilot, "go")
        await wait_for(pilot, lambda: replies(app)[0].text == "still ")
        assert not prompt.cursor_blink
        fake_server.release()
        await wait_for(pilot, lambda: replies(app)[0].status == "complete")
        assert prompt.cursor_blink


async def test_focus_coming_to_an_app_that_started_blurred_lands_on_the_prompt(
    fake_server: FakeLLMServer,
) -> None:
    """A browser tab starts the app blurred: the prompt must still get the keys."""
    app = make_app(fake_server)
    async with app.run_test() as pilot:
        app.screen.set_focus(None)
        app.app_focus = False
        await pilot.pause()
        app.app_focus = True
        await pilot.pause()
        assert isinstance(app.screen.focused, PromptInput)
        await pilot.press("h", "i")
        assert app.query_one(PromptInput).text == "hi"


async def test_keys_typed_while_the_app_starts_reach_the_prompt_in_order() -> None:
    """Keys that come before the chat screen has its prompt are held, then go through
    the whole key path (a Backspace edits) in the order typed."""
    app = make_app()
    async with app.run_test() as pilot:
        prompt = app.query_one(PromptInput)
        app._typeahead = []  # as at start, before the screen says its prompt is there
        await pilot.press("h", "i", "x", "backspace", "!")
        assert prompt.text == "", "held, not dropped on a screen with nothing focused"
        app.chat.post_message(app.chat.PromptReady())
        await pilot.press("?")  # typed after: queued behind what was held
        await wait_for(pilot, lambda: prompt.text == "hi!?")
        assert app._typeahead is None


async def test_a_prompt_typed_and_sent_while_the_app_starts_is_sent(
    fake_server: FakeLLMServer,
) -> None:
    fake_server.enqueue(Script(chunks=["Hello."]))
    app = make_app(fake_server)
    async with app.run_test() as pilot:
        app._typeahead = []  # as at start, before the screen says its prompt is there
        await pilot.press("h", "i", "enter")
        await pilot.pause(0.1)
        assert not fake_server.requests and not replies(app), "held until the prompt is there"
        app.chat.post_message(app.chat.PromptReady())
        await wait_for(pilot, lambda: bool(replies(app)) and replies(app)[-1].status == "complete")
        assert fake_server.requests[0].json["messages"][-1] == {"role": "user", "content": "hi"}


def test_typed_ahead_text_is_the_characters_and_pastes_up_to_the_first_other_key() -> None:
    def key(name: str, char: str | None = None) -> events.Key:
        return events.Key(name, char)

    text, rest = typed_text(
        [key("h", "h"), events.Paste("ello\nthere"), key("x", "x"), key("backspace")]
    )
    assert (text, rest) == ("hello\nthere", [])
    enter, later = key("enter", "\r"), key("a", "a")
    assert typed_text([key("o", "o"), key("k", "k"), enter, later]) == ("ok", [enter, later])
    backspace = key("backspace")  # nothing to take back: it goes on as the key it is
    assert typed_text([backspace, later]) == ("", [backspace, later])
