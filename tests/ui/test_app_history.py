"""History in the app: saved as it streams, the chat list, search, resume, export."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Input, OptionList

from tui_chat.history import HistoryStore
from tui_chat.providers import make_provider
from tui_chat.ui.app import SHOWN_WHEN_OPENING
from tui_chat.ui.screens.details import ReplyDetails
from tui_chat.ui.screens.dialogs import Confirm
from tui_chat.ui.widgets.conversation.history_view import EarlierMessages
from tui_chat.ui.widgets.conversation.message import AssistantMessage, UserMessage
from tui_chat.ui.widgets.history.sidebar import Sidebar

from .app_factory import KEY, filled_sidebar, make_app, replies, send, wait_for
from conftest import FAKE_API_KEY
from fake_server import FakeLLMServer, Script


@pytest.fixture
def store(tmp_path: Path) -> Iterator[HistoryStore]:
    with HistoryStore.open(tmp_path / "history.sqlite3") as opened:
        yield opened


def seed(store: HistoryStore, title_prompt: str, reply: str, model: str = "fake-model") -> int:
    conversation_id = store.new_conversation(api="chat", base_url=None, model=model, system=None)
    store.add_message(conversation_id, "user", title_prompt)
    store.add_message(conversation_id, "assistant", reply)
    return conversation_id


async def test_prompt_is_saved_before_sending_and_reply_while_streaming(
    fake_server: FakeLLMServer, store: HistoryStore
) -> None:
    fake_server.enqueue(Script(chunks=["Saved ", "as ", "it ", "goes."], hold_after=2))
    app = make_app(fake_server, store=store)
    async with app.run_test() as pilot:
        await send(pilot, "keep this safe")
        await wait_for(pilot, lambda: replies(app)[0].text == "Saved as ")
        conversation_id = store.latest_id()
        assert conversation_id is not None

        def saved() -> list[tuple[str, str, str]]:
            stored = store.get_conversation(conversation_id)
            assert stored is not None
            return [(m.role, m.content, m.status) for m in stored.messages]

        assert saved()[0] == ("user", "keep this safe", "complete")
        await wait_for(pilot, lambda: saved()[1] == ("assistant", "Saved as ", "streaming"))
        fake_server.release()
        await wait_for(pilot, lambda: replies(app)[0].status == "complete")
        assert saved()[1] == ("assistant", "Saved as it goes.", "complete")
        stored = store.get_conversation(conversation_id)
        assert stored is not None and stored.messages[1].metrics["total"] > 0


async def test_stopped_and_failed_replies_are_recorded_with_their_status(
    fake_server: FakeLLMServer, store: HistoryStore
) -> None:
    fake_server.enqueue(Script(chunks=["half ", "never"], hold_after=1))
    fake_server.enqueue(Script(status=500, error_message="upstream exploded"))
    app = make_app(fake_server, store=store)
    async with app.run_test() as pilot:
        await send(pilot, "first")
        await wait_for(pilot, lambda: replies(app)[0].text == "half ")
        await pilot.press("escape")
        await wait_for(pilot, lambda: replies(app)[0].status == "stopped")
        await send(pilot, "second")
        await wait_for(pilot, lambda: replies(app)[-1].status == "error")
    stored = store.get_conversation(store.latest_id() or 0)
    assert stored is not None
    assert [(m.role, m.content, m.status) for m in stored.messages] == [
        ("user", "first", "complete"),
        ("assistant", "half ", "stopped"),
        ("user", "second", "complete"),
        ("assistant", "", "error"),
    ]
    assert "upstream exploded" in (stored.messages[3].error or "")
    # Resuming sends the stopped reply as context, but not the failed prompt.
    assert [m.content for m in stored.chat_messages()] == ["first", "half "]


async def test_sidebar_opens_a_conversation_and_continues_it(
    fake_server: FakeLLMServer, store: HistoryStore
) -> None:
    older = seed(store, "about penguins", "Penguins are birds.")
    seed(store, "about cats", "Cats are mammals.")
    app = make_app(fake_server, store=store)
    async with app.run_test(size=(140, 40)) as pilot:
        await filled_sidebar(pilot)
        sidebar = app.query_one(Sidebar)
        assert sidebar.display, "shown on a wide terminal"
        listing = sidebar.query_one(OptionList)
        assert listing.option_count == 2
        assert "about cats" in str(listing.get_option_at_index(0).prompt), "newest first"
        listing.focus()
        listing.highlighted = 1
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.chat.history.conversation_id == older)
        assert [str(w.render()) for w in app.query(UserMessage)] == ["about penguins"]
        assert app.query_one(AssistantMessage).text == "Penguins are birds."
        await send(pilot, "and their eggs?")
        await wait_for(pilot, lambda: replies(app)[-1].status == "complete")
        assert [m["content"] for m in fake_server.requests[-1].json["messages"]] == [
            "about penguins",
            "Penguins are birds.",
            "and their eggs?",
        ]
        stored = store.get_conversation(older)
        assert stored is not None and len(stored.messages) == 4


async def test_sidebar_is_hidden_at_80_columns_and_toggles(
    fake_server: FakeLLMServer, store: HistoryStore
) -> None:
    app = make_app(fake_server, store=store)
    async with app.run_test(size=(80, 24)) as pilot:
        sidebar = app.query_one(Sidebar)
        assert not sidebar.display
        await pilot.press("ctrl+b")
        assert sidebar.display
        await pilot.press("ctrl+b")
        assert not sidebar.display


async def test_search_shows_snippets_and_opens_the_match(
    fake_server: FakeLLMServer, store: HistoryStore
) -> None:
    seed(store, "weather talk", "It rains a lot in Bergen.")
    target = seed(store, "pasta", "Boil the spaghetti in salted water.")
    app = make_app(fake_server, store=store)
    async with app.run_test(size=(140, 40)) as pilot:
        await filled_sidebar(pilot)
        app.query_one("#search", Input).focus()
        await pilot.press(*"spaghetti")
        listing = app.query_one(Sidebar).query_one(OptionList)
        await wait_for(pilot, lambda: listing.option_count == 1)
        prompt = listing.get_option_at_index(0).prompt
        assert "pasta" in str(prompt) and "spaghetti" in str(prompt)
        await pilot.press("enter")  # from the search box to the results
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.chat.history.conversation_id == target)


async def test_delete_asks_first_and_rename_changes_the_title(
    fake_server: FakeLLMServer, store: HistoryStore
) -> None:
    doomed = seed(store, "delete me", "ok")
    app = make_app(fake_server, store=store)
    async with app.run_test(size=(140, 40)) as pilot:
        await filled_sidebar(pilot)
        listing = app.query_one(Sidebar).query_one(OptionList)
        listing.focus()
        listing.highlighted = 0
        await pilot.press("f2")
        await wait_for(pilot, lambda: bool(app.screen.query(Input)))
        app.screen.query_one(Input).value = "A better title"
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: "A better title" in str(listing.get_option_at_index(0).prompt)
        )
        await pilot.press("delete")
        await wait_for(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("n")
        assert store.get_conversation(doomed) is not None, "no means no"
        await pilot.press("delete")
        await wait_for(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, Confirm)
        assert store.get_conversation(doomed) is not None, "Enter is No for a delete"
        await pilot.press("delete")
        await wait_for(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("y")
        await wait_for(pilot, lambda: store.get_conversation(doomed) is None)


async def test_search_with_many_hits_in_one_chat_shows_one_row_per_chat(
    fake_server: FakeLLMServer, store: HistoryStore
) -> None:
    """Any real search matches several messages of a chat; that crashed with DuplicateID."""
    busy = store.new_conversation(api="chat", base_url=None, model="m", system=None)
    for n in range(6):
        store.add_message(busy, "user", f"docker compose question {n}")
        store.add_message(busy, "assistant", f"docker compose answer {n}")
    seed(store, "other", "docker once")
    app = make_app(fake_server, store=store)
    async with app.run_test(size=(140, 40)) as pilot:
        await filled_sidebar(pilot)
        app.query_one("#search", Input).focus()
        await pilot.press(*"docker")
        listing = app.query_one(Sidebar).query_one(OptionList)
        await wait_for(pilot, lambda: listing.option_count == 2)
        rows = [str(listing.get_option_at_index(i).prompt) for i in range(2)]
        assert any("+11 more matches" in row for row in rows), rows
        assert app.is_running


async def test_ctrl_b_focuses_the_search_so_typed_words_never_delete_a_chat(
    fake_server: FakeLLMServer, store: HistoryStore
) -> None:
    kept = seed(store, "dog walking", "Walk the dog twice a day.")
    app = make_app(fake_server, store=store, resume=kept)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: bool(app.query(AssistantMessage)))
        await pilot.press("ctrl+b")
        search = app.query_one("#search", Input)
        assert search.has_focus
        await pilot.press(*"dog", "enter")  # Enter moves to the results
        assert app.query_one(Sidebar).query_one(OptionList).has_focus
        await pilot.press(*"docker", "enter")  # letters on the list go back to the search
        assert search.value == "dogdocker"
        assert not isinstance(app.screen, Confirm)
        assert store.get_conversation(kept) is not None
        await pilot.press("ctrl+b")
        assert not app.query_one(Sidebar).display, "Ctrl+B from the list hides it"


async def test_fast_keys_open_one_dialog_at_a_time(
    fake_server: FakeLLMServer, store: HistoryStore
) -> None:
    seed(store, "one", "ok")
    app = make_app(fake_server, store=store)
    async with app.run_test(size=(140, 40)) as pilot:
        await filled_sidebar(pilot)
        listing = app.query_one(Sidebar).query_one(OptionList)
        listing.focus()
        listing.highlighted = 0
        listing.post_message(Sidebar.Rename(store.latest_id() or 0))
        listing.post_message(Sidebar.Delete(store.latest_id() or 0))
        await pilot.pause(0.2)
        assert len(app.screen_stack) == 2, app.screen_stack


async def test_deleting_the_open_chat_starts_a_new_saved_one(
    fake_server: FakeLLMServer, store: HistoryStore
) -> None:
    doomed = seed(store, "open me", "ok")
    app = make_app(fake_server, store=store, resume=doomed)
    async with app.run_test(size=(140, 40)) as pilot:
        await filled_sidebar(pilot)
        await wait_for(pilot, lambda: app.chat.history.conversation_id == doomed)
        listing = app.query_one(Sidebar).query_one(OptionList)
        listing.focus()
        listing.highlighted = 0
        await pilot.press("delete")
        await wait_for(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("y")
        await wait_for(pilot, lambda: store.get_conversation(doomed) is None)
        assert not app.query(UserMessage), "the deleted chat left the screen"
        await send(pilot, "a fresh start")
        await wait_for(pilot, lambda: bool(replies(app)) and replies(app)[-1].status == "complete")
        fresh = store.get_conversation(store.latest_id() or 0)
        assert fresh is not None and fresh.id != doomed
        assert [m.content for m in fresh.messages][0] == "a fresh start"


async def test_resume_reopens_with_context(fake_server: FakeLLMServer, store: HistoryStore) -> None:
    conversation_id = seed(store, "remember 42", "I will remember 42.")
    app = make_app(fake_server, store=store, resume=conversation_id)
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: bool(app.query(AssistantMessage)))
        await send(pilot, "what number?")
        await wait_for(pilot, lambda: replies(app)[-1].status == "complete")
        assert [m["content"] for m in fake_server.requests[-1].json["messages"]][:2] == [
            "remember 42",
            "I will remember 42.",
        ]


async def test_a_long_conversation_opens_with_the_latest_messages_first(
    fake_server: FakeLLMServer, store: HistoryStore
) -> None:
    conversation_id = store.new_conversation(api="chat", base_url=None, model="m", system=None)
    for n in range(200):
        store.add_message(conversation_id, "user", f"question {n}")
        store.add_message(conversation_id, "assistant", f"**answer** {n}\n\n```\ncode {n}\n```")
    app = make_app(fake_server, store=store, resume=conversation_id)
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: bool(app.query(AssistantMessage)))
        shown = len(app.query(UserMessage)) + len(app.query(AssistantMessage))
        assert shown == SHOWN_WHEN_OPENING
        assert len(app.chat.conversation.messages) == 400, "all of it is context"
        app.query_one(EarlierMessages).press()
        await wait_for(pilot, lambda: len(app.query(UserMessage)) == 200)
        assert str(app.query(UserMessage).first().render()) == "question 0"


@pytest.mark.parametrize("history", [True, False])
async def test_export_writes_markdown_and_json(
    fake_server: FakeLLMServer,
    store: HistoryStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    history: bool,
) -> None:
    monkeypatch.chdir(tmp_path)
    fake_server.enqueue(Script(chunks=["Exported ", "answer."]))
    app = make_app(fake_server, store=store if history else None)
    async with app.run_test() as pilot:
        await send(pilot, "export me")
        await wait_for(pilot, lambda: replies(app)[0].status == "complete")
        app.chat.action_export("md")
        app.chat.action_export("json")
        await asyncio.sleep(0)
    (markdown,) = tmp_path.glob("tui-chat-*.md")
    (exported,) = tmp_path.glob("tui-chat-*.json")
    assert "export me" in markdown.read_text() and "Exported answer." in markdown.read_text()
    contents = [m["content"] for m in json.loads(exported.read_text())["messages"]]
    assert contents == ["export me", "Exported answer."]
    assert KEY not in markdown.read_text() + exported.read_text()
    # A chat is as private as the history database, whatever the umask.
    assert {oct(p.stat().st_mode & 0o777) for p in (markdown, exported)} == {"0o600"}


async def test_no_file_the_app_writes_contains_the_api_key(
    fake_server_with_key: FakeLLMServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """History, the theme file and exports; a 401 whose body echoes the key included."""
    monkeypatch.chdir(tmp_path)
    server = fake_server_with_key
    server.enqueue(Script(chunks=["fine"]))
    with HistoryStore.open() as default_store:  # the real location, under XDG_DATA_HOME
        app = make_app(server, store=default_store, model="m", api_key=FAKE_API_KEY)
        settings = app.chat.settings
        async with app.run_test() as pilot:
            app.theme = "gruvbox"
            await send(pilot, "hello")
            await wait_for(pilot, lambda: replies(app)[0].status == "complete")
            app.chat.set_model("other")
            app.chat.provider = make_provider(settings.with_(api_key="sk-wrong-key"), max_retries=0)
            await send(pilot, "again")
            await wait_for(pilot, lambda: replies(app)[-1].status == "error")
            app.chat.action_export("md")
            app.chat.action_export("json")
    roots = [tmp_path, Path(os.environ["XDG_DATA_HOME"]), Path(os.environ["XDG_CONFIG_HOME"])]
    files = [p for root in roots for p in root.rglob("*") if p.is_file()]
    names = {p.name for p in files}
    assert {"history.sqlite3", "ui-state.json"} <= names
    assert any(n.endswith(".md") for n in names) and any(n.endswith(".json") for n in names)
    for secret in (FAKE_API_KEY, "sk-wrong-key"):
        assert not [p for p in files if secret.encode() in p.read_bytes()], secret


async def test_a_reopened_reply_keeps_its_figures_for_f4(
    fake_server: FakeLLMServer, store: HistoryStore
) -> None:
    fake_server.enqueue(Script(chunks=["one ", "two ", "three"], usage=(7, 3)))
    first = make_app(fake_server, store=store)
    async with first.run_test() as pilot:
        await send(pilot, "count")
        await wait_for(pilot, lambda: replies(first)[-1].status == "complete")
        conversation_id = first.chat.history.conversation_id
    assert conversation_id is not None
    again = make_app(fake_server, store=store, resume=conversation_id)
    async with again.run_test() as pilot:
        await wait_for(pilot, lambda: bool(again.query(AssistantMessage)))
        metrics = again.query(AssistantMessage).last().metrics
        assert metrics is not None and (metrics.chunks, metrics.tokens) == (3, 3)
        await pilot.press("f4")
        await wait_for(pilot, lambda: isinstance(again.screen, ReplyDetails))


async def test_the_chat_that_is_replying_cannot_be_deleted_under_it(
    fake_server: FakeLLMServer, store: HistoryStore
) -> None:
    """Deleting the chat mid-reply used to leave the app saving into nothing."""
    fake_server.enqueue(Script(chunks=["still ", "coming"], hold_after=1))
    app = make_app(fake_server, store=store)
    async with app.run_test(size=(140, 40)) as pilot:
        await send(pilot, "long answer please")
        await wait_for(pilot, lambda: replies(app)[0].text == "still ")
        current = app.chat.history.conversation_id
        assert current is not None
        app.query_one(Sidebar).post_message(Sidebar.Delete(current))
        await pilot.pause(0.2)
        assert not isinstance(app.screen, Confirm)
        fake_server.release()
        await wait_for(pilot, lambda: replies(app)[0].status == "complete")
        stored = store.get_conversation(current)
        assert stored is not None
        assert [m.content for m in stored.messages] == ["long answer please", "still coming"]
