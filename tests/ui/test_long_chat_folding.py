"""A long chat keeps only what is near the view in the layout (`FoldsFarAbove`).

Each test drives real turns through the app against the fake server, at 80x24, until
the earliest ones lie several screens above the view.
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from textual.geometry import Region
from textual.pilot import Pilot

from tui_chat.ui.app import ChatApp
from tui_chat.ui.widgets.conversation.chat_log import ChatLog
from tui_chat.ui.widgets.conversation.folding import FoldedAbove
from tui_chat.ui.widgets.conversation.message import UserMessage
from tui_chat.ui.widgets.conversation.selection import SELECTED

from .app_factory import make_app, replies, send, wait_for
from fake_server import FakeLLMServer, Script


def _reply(turn: int) -> str:
    return "\n\n".join(f"Reply {turn}, paragraph {k}." for k in range(5))


async def _chat(pilot: Pilot[None], server: FakeLLMServer, turns: int, start: int = 0) -> None:
    app = pilot.app
    assert isinstance(app, ChatApp)
    for turn in range(start, start + turns):
        server.enqueue(Script(chunks=[_reply(turn)]))
        await send(pilot, f"prompt {turn}")
        await wait_for(pilot, lambda n=turn + 1: _answered(app, n))
        await pilot.pause()


@asynccontextmanager
async def _long_chat(
    server: FakeLLMServer, turns: int = 16
) -> AsyncIterator[tuple[ChatApp, Pilot[None], ChatLog]]:
    """The app at 80x24 after `turns` real turns, the first ones folded by then."""
    app = make_app(server)
    async with app.run_test(size=(80, 24)) as pilot:
        await _chat(pilot, server, turns)
        yield app, pilot, app.query_one(ChatLog)


def _answered(app: ChatApp, turns: int) -> bool:
    return len(replies(app)) == turns and replies(app)[-1].status == "complete"


def _shown(log: ChatLog) -> list[object]:
    return [c for c in log.children if c.display and not isinstance(c, FoldedAbove)]


def _view(log: ChatLog) -> Region:
    """The rows of the log's content in view."""
    return Region(0, round(log.scroll_y), log.size.width, log.size.height)


def _assert_view_clear_of_the_fold(log: ChatLog, when: str) -> None:
    for spacer in log.query_children(FoldedAbove):
        assert not spacer.virtual_region.overlaps(_view(log)), f"{when}: the fold is in view"
    assert any(c.virtual_region.overlaps(_view(log)) for c in _shown(log)), f"{when}: blank"


async def _unfolded_rows(pilot: Pilot[None], log: ChatLog) -> dict[object, Region]:
    """Where every widget is with nothing folded; folded again afterwards."""
    log.unfold_above(float("-inf"))
    await pilot.pause()
    rows = {child: child.virtual_region for child in _shown(log)}
    await log.fold_far_above()
    await pilot.pause()
    return rows


async def test_a_long_chat_lays_out_about_the_same_few_widgets_however_long_it_grows(
    fake_server: FakeLLMServer,
) -> None:
    async with _long_chat(fake_server, turns=12) as (app, pilot, log):
        assert log.folded, "the first turns lie far above the view"
        shown_at_12 = len(_shown(log))
        laid_out_at_12 = len(app.screen._compositor.full_map)  # what Textual lays out each time
        await _chat(pilot, fake_server, 12, start=12)
        assert len(log.children) > 45
        assert len(_shown(log)) <= shown_at_12 + 3
        assert len(app.screen._compositor.full_map) <= laid_out_at_12 + 6
        # Following still shows the last reply's end.
        assert log.is_vertical_scroll_end
        assert "Reply 23, paragraph 4." in replies(app)[-1].text


async def test_the_fold_stands_for_what_it_hides_row_for_row(fake_server: FakeLLMServer) -> None:
    async with _long_chat(fake_server) as (app, pilot, log):
        folded = log.folded
        assert folded
        shown = {child: child.virtual_region for child in _shown(log) if child.virtual_region}
        height, scroll_y = log.virtual_size.height, log.scroll_y
        log.unfold_above(float("-inf"))
        await pilot.pause()
        assert log.folded == ()
        assert all(child.display for child in folded)
        assert log.virtual_size.height == height
        assert log.scroll_y == scroll_y
        moved = {c: (r, c.virtual_region) for c, r in shown.items() if c.virtual_region != r}
        assert moved == {}, "unfolding moved what was shown"
        await log.fold_far_above()
        await pilot.pause()
        assert set(log.folded) >= set(folded)  # more, with the last turn laid out now
        assert log.virtual_size.height == height
        still = {c: r for c, r in shown.items() if c.display}
        assert len(still) >= 8
        moved = {c: (r, c.virtual_region) for c, r in still.items() if c.virtual_region != r}
        assert moved == {}, "folding again moved what was shown"


async def test_paging_up_to_the_top_never_shows_the_fold_and_ends_with_it_all_back(
    fake_server: FakeLLMServer,
) -> None:
    async with _long_chat(fake_server) as (app, pilot, log):
        rows = await _unfolded_rows(pilot, log)
        assert log.folded
        pages = 0
        while log.scroll_y > 0:
            await pilot.press("pageup")
            await pilot.pause()
            pages += 1
            assert pages < 100
            _assert_view_clear_of_the_fold(log, f"page {pages}")
            moved = [c for c in _shown(log) if c.virtual_region != rows[c]]
            assert moved == [], f"page {pages}: a partial unfold moved rows"
        assert log.folded == ()
        first = log.query_children(UserMessage).first()
        assert first.region.overlaps(log.region), "the first prompt is on screen"
        assert "prompt 0" in str(first.render())


async def test_the_message_cursor_goes_to_a_folded_message_and_shows_it(
    fake_server: FakeLLMServer,
) -> None:
    async with _long_chat(fake_server) as (app, pilot, log):
        first = log.query_children(UserMessage).first()
        assert first in log.folded
        assert len(log.messages()) == 32, "folded messages are still the cursor's"
        await pilot.press("alt+up", "home")
        await pilot.pause()
        await pilot.pause()
        assert first.has_class(SELECTED)
        assert first.display
        assert first.region.overlaps(log.region), "the cursor's message is on screen"


async def test_a_narrower_log_brings_every_turn_back_and_the_next_turn_folds_again(
    fake_server: FakeLLMServer,
) -> None:
    async with _long_chat(fake_server) as (app, pilot, log):
        assert log.folded
        await pilot.resize_terminal(50, 24)  # every reply re-wraps, taller
        await pilot.pause()
        assert log.folded == ()
        assert len(_shown(log)) == len(log.children) - 1  # all but the (empty) fold
        await _chat(pilot, fake_server, 1, start=16)
        assert log.folded
        assert log.is_vertical_scroll_end


async def test_a_taller_log_unfolds_before_the_fold_shows_and_a_little_taller_keeps_it(
    fake_server: FakeLLMServer,
) -> None:
    async with _long_chat(fake_server) as (app, pilot, log):
        folded = set(log.folded)
        await pilot.resize_terminal(80, 26)  # same width: nothing re-wraps
        await pilot.pause()
        assert set(log.folded) == folded, "two rows more unfolded the chat"
        await pilot.resize_terminal(80, 90)
        await pilot.pause()
        await pilot.pause()
        assert log.is_vertical_scroll_end
        _assert_view_clear_of_the_fold(log, "90 rows")


async def test_turns_leaving_from_below_bring_the_fold_back_before_it_shows(
    fake_server: FakeLLMServer,
) -> None:
    async with _long_chat(fake_server) as (app, pilot, log):
        assert log.folded
        await log.remove_children(list(log.children)[-16:])  # the last eight turns
        await pilot.pause()
        await pilot.pause()
        _assert_view_clear_of_the_fold(log, "after the removal")


async def test_a_new_chat_after_a_long_one_starts_with_nothing_folded(
    fake_server: FakeLLMServer,
) -> None:
    async with _long_chat(fake_server) as (app, pilot, log):
        assert log.folded
        gone = weakref.ref(log.folded[0])
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: not log.children)
        await pilot.pause()
        gc.collect()
        assert gone() is None, "the log still holds a folded widget of the old chat"
        fake_server.enqueue(Script(chunks=["a new start"]))
        await send(pilot, "hello again")
        await wait_for(pilot, lambda: replies(app) and replies(app)[-1].status == "complete")
        assert log.folded == ()
        assert [c for c in log.children if not c.display] == []
