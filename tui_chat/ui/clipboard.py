"""OSC 52 clipboard sequences, which work over SSH because the *local* terminal obeys them.

Inside tmux the sequence is wrapped for passthrough (tmux only forwards escape
sequences it is handed in a DCS `tmux;` envelope with every ESC doubled), so the
copy reaches the outer terminal whatever tmux's `set-clipboard` is.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping

#: Terminals and tmux cap OSC 52 payloads (xterm's default is about 100 kB of
#: base64); past this, saving to a file is the dependable way to hand text over.
MAX_CLIPBOARD_BYTES = 74_000


def in_tmux(env: Mapping[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    return bool(env.get("TMUX"))


def osc52(text: str, *, tmux: bool = False) -> str:
    payload = base64.b64encode(text.encode("utf-8")).decode("ascii")
    sequence = f"\x1b]52;c;{payload}\x07"
    if tmux:
        return "\x1bPtmux;" + sequence.replace("\x1b", "\x1b\x1b") + "\x1b\\"
    return sequence


def too_large(text: str) -> bool:
    return len(text.encode("utf-8")) > MAX_CLIPBOARD_BYTES
