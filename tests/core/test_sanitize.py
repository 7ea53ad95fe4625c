"""The one cleaner every untrusted text goes through before it is displayed."""

from __future__ import annotations

import pytest

from tui_chat.core.sanitize import clean


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("AA\x1b[2JBB", "AABB"),  # CSI: clear screen
        ("a\x1b[38;2;255;0;0mred\x1b[0m", "ared"),  # SGR colours
        ("x\x1b]52;c;cHduZWQ=\x07y", "xy"),  # OSC 52 clipboard, BEL-terminated
        ("t\x1b]0;PWNED\x1b\\u", "tu"),  # OSC 0 title, ST-terminated
        ("a\x9b2Jb", "ab"),  # C1 CSI
        ("a\x9d0;title\x9cb", "ab"),  # C1 OSC and ST
        ("a\x1bPq#0;2;0;0;0\x1b\\b", "ab"),  # DCS (sixel)
        ("a\x1bcb", "ab"),  # RIS: full reset
        ("cut\x1b]52;c;unterminated", "cut"),  # a sequence cut off at the end
        ("bell\x07 and \x00nul and \rcr", "bell and nul and cr"),
    ],
)
def test_escape_sequences_go_whole(raw: str, expected: str) -> None:
    assert clean(raw) == expected


@pytest.mark.parametrize("code", [*range(0x202A, 0x202F), *range(0x2066, 0x206A)])
def test_bidi_embeddings_overrides_and_isolates_are_dropped(code: int) -> None:
    """Trojan Source: `if access != "user\u202e \u2066// admin"` reads differently than it runs."""
    assert clean(f"if x{chr(code)}y") == "if xy"


def test_text_people_write_is_untouched() -> None:
    text = "Tabs\tand\nnewlines, [brackets], 日本語, عربي, emoji 🎉, arrows ➜ and ⏱"
    assert clean(text) == text
