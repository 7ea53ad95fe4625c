"""The chat list (Ctrl+B) follows the history: refreshed whenever a turn is saved, so
counts are right and a new chat shows up while its first reply is still streaming."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Input, OptionList

from tui_chat.history import HistoryStore
from tui_chat.ui.app import ChatApp
from tui_chat.ui.widgets.history.sidebar import Sidebar

from .app_factory import filled_sidebar, make_app, replies, send, wait_for
from fake_server import FakeLLMServer, Script

WIDE = (120, 40)  # the list is shown from the start


@pytest.fixture
def store(tmp_path: Path) -> Iterator[HistoryStore]:
    with HistoryStore.open(tmp_path / "history.sqlite3") as opened:
        yield opened


def rows(app: ChatApp) -> list[str]:
    listing = app.query_one(Sidebar).query_one(OptionList)
    return [
        str(getattr(listing.get_option_at_index(i).prompt, "plain", ""))
        for i in range(listing.option_count)
    ]


def counts(store: HistoryStore) -> dict[str, int]:
    return {c.title or "": c.message_count for c in store.list_conversations()}


async def test_the_list_counts_every_saved_message(
    fake_server: FakeLLMServer, store: HistoryStore
) -> None:
    for _ in range(3):
        fake_server.enqueue(Script(chunks=["ok"]))
    app = make_app(fake_server, store=store)
    async with app.run_test(size=WIDE) as pilot:
        for n, prompt in enumerate(["one", "two", "three"], 1):
            await send(pilot, prompt)
            await wait_for(pilot, lambda n=n: len(replies(app)) == n and not app.chat.replying)
        assert counts(store) == {"one": 6}
        await wait_for(pilot, lambda: any("6 msgs" in row for row in rows(app)))
        assert len(rows(app)) == 1


async def test_a_new_chat_appears_while_its_first_reply_streams(
    fake_server: FakeLLMServer, store: HistoryStore
) -> None:
    fake_server.enqueue(Script(chunks=["first"]))
    fake_server.enqueue(Script(chunks=["still ", "coming"], hold_after=1))
    app = make_app(fake_server, store=store)
    async with app.run_test(size=WIDE) as pilot:
        await send(pilot, "an old chat")
        await wait_for(pilot, lambda: not app.chat.replying)
        await pilot.press("ctrl+n")
        await send(pilot, "a new chat")
        await wait_for(pilot, lambda: "still" in replies(app)[-1].text)
        assert app.chat.replying
        await wait_for(pilot, lambda: len(rows(app)) == 2)
        assert rows(app)[0].startswith("a new chat") and "2 msgs" in rows(app)[0]
        fake_server.release()
        await wait_for(pilot, lambda: not app.chat.replying)


def option_ids(app: ChatApp) -> list[str | None]:
    listing = app.query_one(Sidebar).query_one(OptionList)
    return [listing.get_option_at_index(i).id for i in range(listing.option_count)]


async def test_a_refresh_keeps_the_search_and_the_row_the_cursor_is_on(
    fake_server: FakeLLMServer, store: HistoryStore
) -> None:
    for title in ("pasta for four", "weather in Bergen", "pasta or rice"):
        conversation = store.new_conversation(api="chat", base_url=None, model="m", system=None)
        store.add_message(conversation, "user", title)
        store.add_message(conversation, "assistant", "answer")
    fake_server.enqueue(Script(chunks=["more ", "pasta"], hold_after=1))
    app = make_app(fake_server, store=store)
    async with app.run_test(size=WIDE) as pilot:
        await filled_sidebar(pilot)
        sidebar = app.query_one(Sidebar)
        sidebar.query_one("#search", Input).value = "pasta"
        await wait_for(pilot, lambda: len(rows(app)) == 2)
        listing = sidebar.query_one(OptionList)
        listing.highlighted = 1
        chosen = option_ids(app)[1]
        await send(pilot, "tell me about pasta")
        await wait_for(pilot, lambda: "more" in replies(app)[-1].text)
        assert len(rows(app)) == 3, "the new chat matches the search: it joins the hits"
        assert all("Bergen" not in row for row in rows(app)), "still the search's hits"
        fake_server.release()
        await wait_for(pilot, lambda: not app.chat.replying)
        await pilot.pause(0.2)
        assert len(rows(app)) == 3 and all("Bergen" not in row for row in rows(app))
        assert option_ids(app)[listing.highlighted or 0] == chosen, "the cursor stays put"
