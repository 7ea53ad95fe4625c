"""Prompt history: Up/Down on the prompt's edge lines and Ctrl+R recall earlier prompts,
from every saved conversation and from this session, without losing the draft."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Input

from tui_chat.history import HistoryStore
from tui_chat.ui.screens.prompt_search import PromptSearch
from tui_chat.ui.widgets.prompt import PromptInput

from .app_factory import make_app, replies, send, wait_for
from fake_server import FakeLLMServer, Script


@pytest.fixture
def store(tmp_path: Path) -> Iterator[HistoryStore]:
    with HistoryStore.open(tmp_path / "history.sqlite3") as opened:
        yield opened


def seed(store: HistoryStore, *prompts: str) -> None:
    conversation_id = store.new_conversation(api="chat", base_url=None, model="m", system=None)
    for prompt in prompts:
        store.add_message(conversation_id, "user", prompt)
        store.add_message(conversation_id, "assistant", "ok")


def test_recent_prompts_are_newest_first_from_every_chat_each_once(store: HistoryStore) -> None:
    seed(store, "first", "shared")
    seed(store, "second", "shared", "third")
    assert store.recent_prompts() == ["third", "shared", "second", "first"]
    assert store.recent_prompts(limit=2) == ["third", "shared"]


async def test_up_recalls_saved_prompts_and_down_past_newest_restores_draft(
    store: HistoryStore,
) -> None:
    seed(store, "oldest question")
    seed(store, "middle question", "newest question")
    app = make_app(store=store)
    async with app.run_test() as pilot:
        prompt = app.query_one(PromptInput)
        prompt.focus()
        await pilot.press(*"my draft")
        await pilot.press("up")
        assert prompt.text == "newest question"
        await pilot.press("up", "up")
        assert prompt.text == "oldest question"
        await pilot.press("up")  # nothing older: stays
        assert prompt.text == "oldest question"
        await pilot.press("down", "down")
        assert prompt.text == "newest question"
        await pilot.press("down")
        assert prompt.text == "my draft"
        await pilot.press("down")  # past the draft: nothing happens
        assert prompt.text == "my draft"


async def test_up_inside_a_multiline_draft_moves_the_cursor_not_history(
    store: HistoryStore,
) -> None:
    seed(store, "saved")
    app = make_app(store=store)
    async with app.run_test() as pilot:
        prompt = app.query_one(PromptInput)
        prompt.focus()
        prompt.load_text("line one\nline two")
        prompt.move_cursor(prompt.document.end)
        await pilot.press("up")
        assert prompt.text == "line one\nline two"
        assert prompt.cursor_location[0] == 0
        await pilot.press("up")
        assert prompt.text == "saved"


async def test_an_edited_recalled_prompt_becomes_the_draft(store: HistoryStore) -> None:
    seed(store, "older", "newer")
    app = make_app(store=store)
    async with app.run_test() as pilot:
        prompt = app.query_one(PromptInput)
        prompt.focus()
        await pilot.press("up", "up")
        assert prompt.text == "older"
        await pilot.press("end", *" edited")
        await pilot.press("up")
        assert prompt.text == "newer"
        await pilot.press("down")
        assert prompt.text == "older edited", "the edit was not lost by recalling"


async def test_no_history_recalls_this_sessions_prompts(fake_server: FakeLLMServer) -> None:
    fake_server.enqueue(Script(chunks=["one"]))
    fake_server.enqueue(Script(chunks=["two"]))
    app = make_app(fake_server)  # no store: as with --no-history
    async with app.run_test() as pilot:
        await send(pilot, "first prompt")
        await wait_for(pilot, lambda: replies(app)[-1].status == "complete")
        await send(pilot, "second prompt")
        await wait_for(pilot, lambda: len(replies(app)) == 2)
        await wait_for(pilot, lambda: replies(app)[-1].status == "complete")
        prompt = app.query_one(PromptInput)
        await pilot.press("up")
        assert prompt.text == "second prompt"
        await pilot.press("up")
        assert prompt.text == "first prompt"
        await pilot.press("down", "down")
        assert prompt.text == ""


async def test_ctrl_r_finds_a_prompt_by_its_words_and_esc_keeps_the_draft(
    store: HistoryStore,
) -> None:
    seed(store, "how do I reverse a list in python", "what is a monad", "sort a dict by value")
    app = make_app(store=store)
    async with app.run_test() as pilot:
        prompt = app.query_one(PromptInput)
        prompt.focus()
        await pilot.press(*"half typed")
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptSearch))
        await pilot.press(*"monad")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, PromptSearch))
        assert prompt.text == "half typed"

        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptSearch))
        await pilot.press(*"PYTHON list")
        assert app.screen.query_one(Input).value == "PYTHON list"
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, PromptSearch))
        assert prompt.text == "how do I reverse a list in python"
        assert prompt.has_focus
        await pilot.press("down", "down", "down")
        assert prompt.text == "half typed", "Down past the newest gives the draft back"


async def test_ctrl_r_again_picks_the_next_older_match(store: HistoryStore) -> None:
    seed(store, "deploy staging", "deploy production")
    app = make_app(store=store)
    async with app.run_test() as pilot:
        app.query_one(PromptInput).focus()
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptSearch))
        await pilot.press(*"deploy", "ctrl+r", "enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, PromptSearch))
        assert app.query_one(PromptInput).text == "deploy staging"


async def test_the_search_shows_prompts_as_typed_not_as_markup(store: HistoryStore) -> None:
    seed(store, "make [red]this[/red] plain", "second line\nof [bold]one[/bold]")
    app = make_app(store=store)
    async with app.run_test(size=(100, 30)) as pilot:
        app.query_one(PromptInput).focus()
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptSearch))
        await pilot.pause(0.1)
        screen = app.export_screenshot()
        assert "[red]this[/red]" in screen
        assert "of&#160;[bold]one[/bold]" in screen


async def test_a_prompt_sent_again_is_recalled_once(
    fake_server: FakeLLMServer, store: HistoryStore
) -> None:
    seed(store, "older", "again")
    fake_server.enqueue(Script(chunks=["ok"]))
    app = make_app(fake_server, store=store)
    async with app.run_test() as pilot:
        await send(pilot, "again")
        await wait_for(pilot, lambda: bool(replies(app)) and replies(app)[0].status == "complete")
        prompt = app.query_one(PromptInput)
        await pilot.press("up")
        assert prompt.text == "again"
        await pilot.press("up")
        assert prompt.text == "older", "this session's copy and history's are one entry"
