"""The command palette (Ctrl+P): Textual's own leftovers are gone or work here, and a
search that finds nothing says so."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot

from tui_chat.ui.app import ChatApp

from .app_factory import make_app, wait_for


def shown_commands(app: ChatApp) -> list[str]:
    listing = app.screen.query_one(CommandList)
    return [str(listing.get_option_at_index(i).prompt) for i in range(listing.option_count)]


async def search(pilot: Pilot[None], text: str) -> list[str]:
    app = pilot.app
    assert isinstance(app, ChatApp)
    if not isinstance(app.screen, CommandPalette):
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
    await pilot.press(*text)
    await pilot.pause(0.8)  # past the palette's half-second "no matches" countdown
    return shown_commands(app)


async def test_palette_offers_keys_once() -> None:
    app = make_app()
    async with app.run_test() as pilot:
        hits = await search(pilot, "keys")
        assert [hit for hit in hits if hit.startswith("Keys")] == [
            "Keys\nEvery key the app answers to (F1)"
        ]


async def test_palette_offers_no_maximize_and_says_when_nothing_matches() -> None:
    app = make_app()
    async with app.run_test() as pilot:
        hits = await search(pilot, "maximize")
        assert not any("Maximize" in hit for hit in hits)
        # Said after the palette's countdown, later on a loaded machine than the pause.
        await wait_for(pilot, lambda: any("No matches" in hit for hit in shown_commands(app)))
        assert not any("Maximize" in hit for hit in shown_commands(app))


async def test_a_palette_search_with_no_hits_says_so() -> None:
    app = make_app()
    async with app.run_test() as pilot:
        assert any("No matches found" in hit for hit in await search(pilot, "zzzq"))


async def test_screenshot_from_the_palette_saves_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Textual's own saved to ~/Downloads, which is not there on a server."""
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    app = make_app()
    async with app.run_test() as pilot:
        hits = await search(pilot, "Screenshot")
        assert hits[0].startswith("Screenshot")
        await pilot.press("enter")
        await wait_for(pilot, lambda: list(work.glob("*.svg")) != [])
        await pilot.pause(0.2)
        (saved,) = work.glob("*.svg")
        assert saved.read_text().startswith("<svg")
        assert stat.S_IMODE(saved.stat().st_mode) == 0o600, "it holds the chat"
        assert not any("Failed" in str(n.message) for n in app._notifications)
        assert any(str(saved) in str(n.message) for n in app._notifications)
