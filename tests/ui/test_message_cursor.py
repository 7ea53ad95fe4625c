"""The message cursor (Alt+Up): move through the log from the keyboard, and copy a
message, copy one of its code blocks, or quote it into the prompt."""

from __future__ import annotations

from textual.command import CommandPalette

from tui_chat.ui.widgets.conversation.chat_log import ChatLog
from tui_chat.ui.widgets.conversation.message import AssistantMessage, UserMessage
from tui_chat.ui.widgets.conversation.selection import SELECTED, quoted
from tui_chat.ui.widgets.prompt import PromptInput

from .app_factory import make_app, replies, send, wait_for
from fake_server import FakeLLMServer, Script

TWO_BLOCKS = "Two ways:\n\n```python\nprint('one')\n```\n\nand\n\n```bash\necho two\n```\n"


def _selected(app: object) -> list[object]:
    return list(app.query(f".{SELECTED}"))  # type: ignore[attr-defined]


async def test_alt_up_puts_the_cursor_on_the_last_message_and_arrows_move_it(
    fake_server: FakeLLMServer,
) -> None:
    fake_server.enqueue(Script(chunks=["the answer"]))
    app = make_app(fake_server)
    async with app.run_test() as pilot:
        await send(pilot, "the question")
        await wait_for(pilot, lambda: replies(app)[-1].status == "complete")
        await pilot.press("alt+up")
        log = app.query_one(ChatLog)
        assert log.has_focus
        assert _selected(app) == [replies(app)[-1]]
        await pilot.press("up")
        assert _selected(app) == [app.query_one(UserMessage)]
        await pilot.press("up")  # stays on the first
        assert _selected(app) == [app.query_one(UserMessage)]
        await pilot.press("down")
        assert _selected(app) == [app.query_one(AssistantMessage)]
        await pilot.press("escape")
        assert _selected(app) == []
        assert app.query_one(PromptInput).has_focus
        assert app.chat.replying is False


async def test_c_copies_the_selected_message_whichever_it_is(fake_server: FakeLLMServer) -> None:
    fake_server.enqueue(Script(chunks=["first reply"]))
    fake_server.enqueue(Script(chunks=["second reply"]))
    app = make_app(fake_server)
    async with app.run_test() as pilot:
        await send(pilot, "first prompt")
        await wait_for(pilot, lambda: replies(app)[-1].status == "complete")
        await send(pilot, "second prompt")
        await wait_for(pilot, lambda: replies(app)[-1].status == "complete")
        await pilot.press("alt+up", "up", "up", "c")
        await wait_for(pilot, lambda: app.clipboard == "first reply")
        await pilot.press("up", "c")
        await wait_for(pilot, lambda: app.clipboard == "first prompt")


async def test_b_copies_the_only_code_block_at_once_and_offers_a_choice_of_several(
    fake_server: FakeLLMServer,
) -> None:
    fake_server.enqueue(Script(chunks=[TWO_BLOCKS]))
    fake_server.enqueue(Script(chunks=["Just one:\n\n```sh\nls -l\n```\n"]))
    app = make_app(fake_server)
    async with app.run_test() as pilot:
        await send(pilot, "two blocks")
        await wait_for(pilot, lambda: replies(app)[-1].status == "complete")
        await send(pilot, "one block")
        await wait_for(pilot, lambda: replies(app)[-1].status == "complete")
        await pilot.press("alt+up", "b")
        await wait_for(pilot, lambda: app.clipboard == "ls -l\n")
        await pilot.press("up", "up", "b")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"echo")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.clipboard == "echo two\n")
        await wait_for(pilot, lambda: app.query_one(ChatLog).has_focus)
        await pilot.press("c")  # the chooser left the cursor where it was
        await wait_for(pilot, lambda: app.clipboard == TWO_BLOCKS)


async def test_q_quotes_the_selected_message_into_the_prompt_after_the_draft(
    fake_server: FakeLLMServer,
) -> None:
    fake_server.enqueue(Script(chunks=["line one\n\nline two"]))
    app = make_app(fake_server)
    async with app.run_test() as pilot:
        await send(pilot, "hello")
        await wait_for(pilot, lambda: replies(app)[-1].status == "complete")
        prompt = app.query_one(PromptInput)
        prompt.load_text("About this:")
        await pilot.press("alt+up", "q")
        assert prompt.text == "About this:\n\n> line one\n>\n> line two\n\n"
        assert prompt.has_focus
        assert _selected(app) == []


async def test_the_cursor_keys_say_so_when_there_is_nothing_to_select(
    fake_server: FakeLLMServer,
) -> None:
    app = make_app(fake_server)
    async with app.run_test() as pilot:
        await pilot.press("alt+up")
        await pilot.pause()
        assert app.query_one(PromptInput).has_focus
        assert any("No messages" in str(n.message) for n in app._notifications)


def test_quote_marks_every_line_and_leaves_a_line_to_write_on() -> None:
    assert quoted("a\n\nb\n") == "> a\n>\n> b\n\n"


async def test_an_error_notice_can_be_selected_and_copied_too(fake_server: FakeLLMServer) -> None:
    fake_server.enqueue(Script(status=500, error_message="upstream exploded"))
    app = make_app(fake_server)
    async with app.run_test() as pilot:
        await send(pilot, "fails")
        await wait_for(pilot, lambda: replies(app)[-1].status == "error")
        await pilot.press("alt+up", "c")
        await wait_for(pilot, lambda: "upstream exploded" in (app.clipboard or ""))
        assert app.clipboard.startswith("! ")


async def test_mouse_selection_still_selects_text_while_the_cursor_is_on(
    fake_server: FakeLLMServer,
) -> None:
    fake_server.enqueue(Script(chunks=["an answer"]))
    app = make_app(fake_server)
    async with app.run_test() as pilot:
        await send(pilot, "pickme please")
        await wait_for(pilot, lambda: replies(app)[-1].status == "complete")
        await pilot.press("alt+up", "up")
        prompt_shown = app.query_one(UserMessage)
        assert _selected(app) == [prompt_shown]
        await pilot.double_click(prompt_shown, offset=(4, 0))
        await pilot.pause()
        assert app.screen.get_selected_text() == "pickme please"
        await pilot.press("c")  # the key still acts on the cursor's message
        await wait_for(pilot, lambda: app.clipboard == "pickme please")


async def test_esc_in_the_log_without_a_cursor_still_stops_the_reply(
    fake_server: FakeLLMServer,
) -> None:
    fake_server.enqueue(Script(chunks=["still ", "coming"], hold_after=1))
    app = make_app(fake_server)
    async with app.run_test() as pilot:
        await send(pilot, "go")
        await wait_for(pilot, lambda: replies(app)[-1].text == "still ")
        app.query_one(ChatLog).focus()  # e.g. clicked
        await pilot.press("escape")
        await wait_for(pilot, lambda: replies(app)[-1].status == "stopped")
