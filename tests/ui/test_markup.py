"""UI text helpers: untrusted text is cleaned and its markup escaped before Rich sees it."""

from __future__ import annotations

from tui_chat.ui.markup import shown


def test_shown_escapes_markup_as_well() -> None:
    assert shown("print('[/]')\x1b[2J") == "print('\\[/]')"
