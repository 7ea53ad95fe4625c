"""Poorer terminals: at 16 colours the key hints and the local model's notice are not
drawn in an error's red, and on the Linux console nothing is drawn with a glyph its
fonts lack (eighth blocks, emoji)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest
from textual.scrollbar import ScrollBar

from tui_chat.history import HistoryStore
from tui_chat.ui.theme import SIXTEEN_COLOUR_THEME, theme_for_terminal

from .app_factory import make_app, wait_for
from console_script import TUI_CHAT
from fake_server import FakeLLMServer
from pty_terminal import Terminal

#: Glyphs Debian's console fonts (Lat15/Uni2, Terminus and Fixed) do not have.
MISSING_ON_THE_CONSOLE = "▏▕▁▂▃▅▆▇▔🔎"
RED = ("red", "brightred")


@pytest.mark.parametrize(
    ("color_system", "theme", "remembered", "expected"),
    [
        ("standard", "textual-dark", None, SIXTEEN_COLOUR_THEME),
        ("standard", "textual-dark", "textual-dark", SIXTEEN_COLOUR_THEME),
        ("standard", "nord", "nord", "nord"),  # chosen: kept
        ("256", "textual-dark", None, "textual-dark"),
        ("truecolor", "textual-dark", None, "textual-dark"),
    ],
)
def test_sixteen_colours_get_the_terminals_own_palette_unless_a_theme_was_chosen(
    color_system: str, theme: str, remembered: str | None, expected: str
) -> None:
    assert theme_for_terminal(color_system, theme, remembered) == expected


def pty_env(tmp_path: Path, term: str) -> dict[str, str]:
    keep = ("PATH", "LANG", "LC_ALL", "PYTHONPATH", "VIRTUAL_ENV", "PYENV_VERSION", "PYENV_ROOT")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(HOME=str(tmp_path), TERM=term, LANG=env.get("LANG", "C.UTF-8"))
    return env


@pytest.mark.parametrize("term", ["xterm", "linux"])
def test_at_16_colours_key_hints_and_the_local_notice_are_not_red(
    tmp_path: Path, term: str
) -> None:
    """The installed app in a pty with 16 colours (no COLORTERM): no API key, so the
    local model's notice is shown; neither it nor a key hint may look like an error."""
    terminal = Terminal([*TUI_CHAT, "--no-history"], tmp_path, pty_env(tmp_path, term))
    try:
        terminal.wait_for(lambda s: "Tiny local demo model" in s and "help" in s)
        terminal.pump(0.5)
        screen = terminal.screen
        rows = terminal.text().splitlines()
        footer = next(y for y, row in enumerate(rows) if "help" in row and "quit" in row)
        x = rows[footer].index("f1")
        assert screen.buffer[footer][x].fg not in RED, "the F1 hint"
        notice = next(y for y, row in enumerate(rows) if "Tiny local demo model" in row)
        border = next(x for x, char in enumerate(rows[notice]) if char.strip())
        assert screen.buffer[notice][border].fg not in RED, "the local model's notice"
        terminal.child.sendcontrol("q")
        terminal.child.expect(pexpect.EOF, timeout=10)
    finally:
        terminal.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[HistoryStore]:
    with HistoryStore.open(tmp_path / "history.sqlite3") as opened:
        conversation = opened.new_conversation(api="chat", base_url=None, model="m", system=None)
        for n in range(30):
            opened.add_message(conversation, "user", f"question {n}")
        yield opened


async def test_on_the_linux_console_the_chat_list_and_palette_use_glyphs_it_has(
    fake_server: FakeLLMServer, store: HistoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TERM", "linux")
    app = make_app(fake_server, store=store)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause(0.3)
        assert app.has_class("-linux-console")
        sidebar = app.query_one("#sidebar").region
        screen = [
            "".join(segment.text for segment in line)
            for line in app.screen._compositor.render_full_update().strips
        ]
        drawn = "\n".join(row[: sidebar.right] for row in screen[sidebar.y : sidebar.bottom])
        assert "│" in drawn
        assert not set(drawn) & set(MISSING_ON_THE_CONSOLE), drawn
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: app.screen.query("SearchIcon") != [])
        await pilot.pause(0.2)
        assert not app.screen.query_one("SearchIcon").display, "🔎 is not drawn"


def test_on_the_linux_console_scrollbars_end_on_whole_cells(tmp_path: Path) -> None:
    """Set by the real run (not the tests' headless one): the installed app in a pty."""
    script = (
        "from textual.scrollbar import ScrollBar\n"
        "from tui_chat.ui.app import ChatApp\n"
        "from tui_chat.settings.config import Settings\n"
        "class Probe(ChatApp):\n"
        "    def on_ready(self):\n"
        "        self.exit()\n"
        "Probe(Settings(api='local'), remember_ui=False).run()\n"
        "print('bars', repr(''.join(ScrollBar.renderer.VERTICAL_BARS)), flush=True)\n"
    )
    terminal = Terminal([sys.executable, "-c", script], tmp_path, pty_env(tmp_path, "linux"))
    try:
        terminal.child.expect(pexpect.EOF, timeout=60)
        said = terminal.child.before or ""
        assert "bars '        '" in said
    finally:
        terminal.close()
    assert ScrollBar.renderer.VERTICAL_BARS[0] == "▁", "the test process itself is untouched"
