"""OSC 52 sequences (plain and tmux-wrapped) for copy."""

from __future__ import annotations

import base64
import re

from tui_chat.ui.clipboard import MAX_CLIPBOARD_BYTES, in_tmux, osc52, too_large


def test_osc52_carries_the_text_base64_encoded() -> None:
    sequence = osc52("héllo ✓")
    match = re.fullmatch(r"\x1b\]52;c;([A-Za-z0-9+/=]+)\x07", sequence)
    assert match and base64.b64decode(match.group(1)).decode() == "héllo ✓"


def test_tmux_wraps_for_passthrough_with_doubled_escapes() -> None:
    inner = osc52("x")
    wrapped = osc52("x", tmux=True)
    assert wrapped.startswith("\x1bPtmux;") and wrapped.endswith("\x1b\\")
    assert wrapped[len("\x1bPtmux;") : -2] == inner.replace("\x1b", "\x1b\x1b")


def test_tmux_detected_from_environment() -> None:
    assert in_tmux({"TMUX": "/tmp/tmux-0/default,1,0"})
    assert not in_tmux({})


def test_size_limit() -> None:
    assert not too_large("a" * MAX_CLIPBOARD_BYTES)
    assert too_large("a" * (MAX_CLIPBOARD_BYTES + 1))
