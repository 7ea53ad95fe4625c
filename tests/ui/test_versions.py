"""Earlier versions of a turn (F5 retry, F8 edit): the reply that replaced them is
marked, and `v` on the message cursor (or the palette) lists them, read-only, right
after the retry and in a reopened chat; the context stays the current version."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Static

from tui_chat.history import HistoryStore
from tui_chat.ui.app import ChatApp
from tui_chat.ui.screens.versions import EarlierVersions
from tui_chat.ui.widgets.conversation.chat_log import ChatLog
from tui_chat.ui.widgets.conversation.history_view import VersionsMark
from tui_chat.ui.widgets.conversation.message import UserMessage
from tui_chat.ui.widgets.history.sidebar import Sidebar
from tui_chat.ui.widgets.prompt import PromptInput

from .app_factory import filled_sidebar, make_app, replies, send, wait_for
from fake_server import FakeLLMServer, Script


@pytest.fixture
def store(tmp_path: Path) -> Iterator[HistoryStore]:
    with HistoryStore.open(tmp_path / "history.sqlite3") as opened:
        yield opened


def _listed(app: ChatApp) -> list[str]:
    """The modal's texts, in order, as drawn (a markup tag would have vanished)."""
    return [str(w.render()) for w in app.screen.query("#versions Static")]


def _marks(app: ChatApp) -> list[str]:
    return [str(w.render()) for w in app.query(VersionsMark)]


async def _settled(pilot: Pilot[None], app: ChatApp, count: int) -> None:
    await wait_for(pilot, lambda: len(replies(app)) == count)
    await wait_for(pilot, lambda: replies(app)[-1].status == "complete")


async def _two_turns_and_a_retry(pilot: Pilot[None], app: ChatApp) -> None:
    await send(pilot, "one")
    await _settled(pilot, app, 1)
    await send(pilot, "two")
    await _settled(pilot, app, 2)
    await pilot.press("f5")
    await wait_for(pilot, lambda: replies(app)[-1].text == "new answer")
    await _settled(pilot, app, 2)
    await wait_for(pilot, lambda: bool(app.query(VersionsMark)))


def _scripts(old: str = "old answer") -> list[Script]:
    return [Script(chunks=["first answer"]), Script(chunks=[old]), Script(chunks=["new answer"])]


async def test_a_retried_reply_is_marked_and_v_on_the_cursor_lists_the_earlier_version(
    fake_server: FakeLLMServer, store: HistoryStore
) -> None:
    fake_server.enqueue(*_scripts())
    app = make_app(fake_server, store=store)
    async with app.run_test() as pilot:
        await _two_turns_and_a_retry(pilot, app)
        assert _marks(app) == ["version 2 of 2 · Alt+↑, v: the earlier ones"]
        log = app.query_one(ChatLog)
        children = list(log.children)
        assert children.index(app.query_one(VersionsMark)) == children.index(replies(app)[-1]) + 1

        await pilot.press("v")
        assert app.query_one(PromptInput).text == "v", "in the prompt box, v is a letter"
        app.query_one(PromptInput).clear()

        await pilot.press("alt+up", "v")
        await wait_for(pilot, lambda: isinstance(app.screen, EarlierVersions))
        listed = _listed(app)
        assert listed[0].startswith("Version 1 of 2 · replaced ")
        assert listed[1:] == ["two", "old answer"]
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, EarlierVersions))
        assert log.has_focus and log.selected is replies(app)[-1], "the cursor is still there"

        await pilot.press("up", "v")  # on the turn's prompt: the same versions
        await wait_for(pilot, lambda: isinstance(app.screen, EarlierVersions))
        assert _listed(app)[1:] == ["two", "old answer"]
        await pilot.press("escape")
        await pilot.press("up", "up", "v")  # the first turn has none
        await pilot.pause(0.1)
        assert not isinstance(app.screen, EarlierVersions)
        assert any("No earlier versions" in n.message for n in app._notifications)
        fake_server.enqueue(Script(chunks=["third answer"]))
        await send(pilot, "three")
        await _settled(pilot, app, 3)
        assert [m["content"] for m in fake_server.requests[-1].json["messages"]] == [
            "one",
            "first answer",
            "two",
            "new answer",
            "three",
        ], "the context is the current version"
        assert len(app.query(VersionsMark)) == 1, "a new turn is not a version"


async def test_an_edit_then_a_retry_lists_both_earlier_versions_oldest_first(
    fake_server: FakeLLMServer, store: HistoryStore
) -> None:
    fake_server.enqueue(
        Script(chunks=["answer to a typo"]),
        Script(chunks=["answer to the fix"]),
        Script(chunks=["answer again"]),
    )
    app = make_app(fake_server, store=store)
    async with app.run_test() as pilot:
        await send(pilot, "tow")
        await _settled(pilot, app, 1)
        await pilot.press("f8")
        prompt = app.query_one(PromptInput)
        await wait_for(pilot, lambda: prompt.text == "tow")
        prompt.load_text("two")
        await pilot.press("enter")
        await wait_for(pilot, lambda: replies(app)[-1].text == "answer to the fix")
        await _settled(pilot, app, 1)
        await wait_for(pilot, lambda: _marks(app) != [])
        assert _marks(app)[0].startswith("version 2 of 2")
        await pilot.press("f5")
        await wait_for(pilot, lambda: replies(app)[-1].text == "answer again")
        await _settled(pilot, app, 1)
        await wait_for(pilot, lambda: _marks(app) != [] and "3 of 3" in _marks(app)[0])
        assert len(_marks(app)) == 1, "the replaced reply's mark went with it"
        await pilot.press("alt+up", "v")
        await wait_for(pilot, lambda: isinstance(app.screen, EarlierVersions))
        listed = _listed(app)
        headings = [text for text in listed if text.startswith("Version")]
        assert [heading[:14] for heading in headings] == ["Version 1 of 3", "Version 2 of 3"]
        assert [t for t in listed if not t.startswith("Version")] == [
            "tow",
            "answer to a typo",
            "two",
            "answer to the fix",
        ]
        assert [str(w.render()) for w in app.chat.query(UserMessage)] == ["two"]


async def test_a_reopened_chat_marks_the_turn_and_lists_its_earlier_versions(
    fake_server: FakeLLMServer, store: HistoryStore
) -> None:
    fake_server.enqueue(*_scripts())
    app = make_app(fake_server, store=store)
    async with app.run_test() as pilot:
        await _two_turns_and_a_retry(pilot, app)
    conversation_id = store.latest_id()
    assert conversation_id is not None

    fake_server.enqueue(Script(chunks=["later answer"]))
    app = make_app(fake_server, store=store, resume=conversation_id)
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: len(replies(app)) == 2)
        assert _marks(app) == ["version 2 of 2 · Alt+↑, v: the earlier ones"]
        children = list(app.query_one(ChatLog).children)
        assert children.index(app.query_one(VersionsMark)) == children.index(replies(app)[-1]) + 1
        await pilot.press("alt+up", "v")
        await wait_for(pilot, lambda: isinstance(app.screen, EarlierVersions))
        assert _listed(app)[1:] == ["two", "old answer"]
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, EarlierVersions))
        await pilot.press("escape")  # the cursor away: the prompt again
        await send(pilot, "later")
        await _settled(pilot, app, 3)
    assert [m["content"] for m in fake_server.requests[-1].json["messages"]] == [
        "one",
        "first answer",
        "two",
        "new answer",
        "later",
    ]


async def test_the_palette_lists_the_last_turns_earlier_versions_without_a_cursor(
    fake_server: FakeLLMServer, store: HistoryStore
) -> None:
    fake_server.enqueue(*_scripts())
    app = make_app(fake_server, store=store)
    async with app.run_test() as pilot:
        await _two_turns_and_a_retry(pilot, app)
        await pilot.press("ctrl+p")
        await pilot.press(*"Earlier versions")
        await pilot.pause(0.8)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, EarlierVersions))
        assert _listed(app)[1:] == ["two", "old answer"]


async def test_an_earlier_version_is_shown_as_text_never_as_markup_or_escapes(
    fake_server: FakeLLMServer, store: HistoryStore
) -> None:
    fake_server.enqueue(*_scripts(old="[bold red]loud[/] \x1b]0;pwned\x07done"))
    app = make_app(fake_server, store=store)
    async with app.run_test() as pilot:
        await _two_turns_and_a_retry(pilot, app)
        await pilot.press("alt+up", "v")
        await wait_for(pilot, lambda: isinstance(app.screen, EarlierVersions))
        reply = app.screen.query(".version-reply").last(Static)
        shown = str(reply.render())
        assert "[bold red]loud[/]" in shown
        assert "\x1b" not in shown and "\x07" not in shown


async def test_a_long_earlier_version_scrolls_inside_the_window(
    fake_server: FakeLLMServer, store: HistoryStore
) -> None:
    long_answer = "\n\n".join(f"paragraph {n}" for n in range(80))
    fake_server.enqueue(*_scripts(old=long_answer))
    app = make_app(fake_server, store=store)
    async with app.run_test(size=(80, 24)) as pilot:
        await _two_turns_and_a_retry(pilot, app)
        await pilot.press("alt+up", "v")
        await wait_for(pilot, lambda: isinstance(app.screen, EarlierVersions))
        await pilot.pause()
        scroll = app.screen.query_one("#versions")
        assert scroll.has_focus and scroll.max_scroll_y > 0
        assert app.screen.query_one(".dialog").region.bottom <= 24
        await pilot.press("pagedown")
        await wait_for(pilot, lambda: scroll.scroll_y > 0)


async def test_the_chat_list_search_finds_current_messages_only_among_many_versions(
    fake_server: FakeLLMServer, store: HistoryStore
) -> None:
    replaced_only = store.new_conversation(api="chat", base_url=None, model="m", system=None)
    for n in range(30):
        store.add_message(replaced_only, "user", f"walrus question {n}")
        store.add_message(replaced_only, "assistant", f"walrus answer {n}")
        store.replace_last_turn(replaced_only)
    store.add_message(replaced_only, "user", "something else")
    store.add_message(replaced_only, "assistant", "no animals here")
    kept = store.new_conversation(api="chat", base_url=None, model="m", system=None)
    store.add_message(kept, "user", "walrus facts")
    store.add_message(kept, "assistant", "a walrus has tusks")
    app = make_app(fake_server, store=store)
    async with app.run_test(size=(140, 40)) as pilot:
        await filled_sidebar(pilot)
        app.query_one("#search", Input).focus()
        await pilot.press(*"walrus")
        listing = app.query_one(Sidebar).query_one(OptionList)
        await wait_for(pilot, lambda: "walrus" in app.query_one("#search", Input).value)
        await pilot.pause(0.3)
        rows = [str(listing.get_option_at_index(i).prompt) for i in range(listing.option_count)]
        assert len(rows) == 1 and "walrus facts" in rows[0] and "+1 more match" in rows[0], rows
