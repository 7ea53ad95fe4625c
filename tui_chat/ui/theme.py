"""Colours and glyphs that hold on poorer terminals.

At 16 colours (TERM=xterm, screen or linux without COLORTERM) Textual's default theme
is downgraded colour by colour, and its orange accent, which draws the key hints and
the local model's notice, lands on bright red: everything looks like an error. There
the app starts with Textual's `ansi-dark` theme instead, which uses the terminal's own
palette (keys in magenta, notices in green, errors alone in red), unless the person
chose another theme.

The Linux console's fonts (Debian's Lat15/Uni2 Terminus and Fixed, checked with
psfgettable) have no eighth or half blocks (▏ ▕ ▁ ▂ ▌), emoji (🔎) or dingbats (➜ ⏱):
they show as a placeholder box. With TERM=linux the app gets the `-linux-console`
class, which styles.tcss uses to draw those borders with box-drawing lines, and
scrollbars are drawn with whole cells.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from textual.scrollbar import ScrollBar, ScrollBarRender

#: Rich's colour systems with at most 16 colours.
FEW_COLOURS = frozenset({"standard", "windows"})
SIXTEEN_COLOUR_THEME = "ansi-dark"
#: Textual's own default; a theme remembered as this was never really chosen.
DEFAULT_THEME = "textual-dark"
LINUX_CONSOLE_CLASS = "-linux-console"


def theme_for_terminal(color_system: str | None, theme: str, remembered: str | None) -> str:
    """The theme to start with: `ansi-dark` at 16 colours unless a theme was chosen."""
    chosen = remembered not in (None, DEFAULT_THEME)
    if color_system in FEW_COLOURS and not chosen and not theme.startswith("ansi"):
        return SIXTEEN_COLOUR_THEME
    return theme


def is_linux_console(env: Mapping[str, str]) -> bool:
    return env.get("TERM", "").split("-")[0] == "linux"


class WholeCellScrollBarRender(ScrollBarRender):
    """A scrollbar whose thumb ends on whole cells: no eighth blocks."""

    VERTICAL_BARS: ClassVar[list[str]] = [" "] * 8
    HORIZONTAL_BARS: ClassVar[list[str]] = [" "] * 8


def use_console_glyphs() -> None:
    ScrollBar.renderer = WholeCellScrollBarRender
