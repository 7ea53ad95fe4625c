"""Copying text out of the app: OSC 52, and inside tmux a tmux buffer.

OSC 52 works over SSH because the *local* terminal obeys it. Inside tmux it is wrapped
for passthrough (a DCS `tmux;` envelope with every ESC doubled), but tmux drops that
unless `allow-passthrough` is on, and it is off by default. So inside tmux the text goes
into a tmux buffer with `tmux load-buffer -w -`, which tmux itself hands on to the outer
terminal when it can (`set-clipboard` on or external, the default, and a terminal tmux
knows takes OSC 52). The toast then says which of those happened, and which tmux option
enables the rest: a copy that did not arrive must not say "Copied".
"""

from __future__ import annotations

import base64
import os
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

#: Terminals and tmux cap OSC 52 payloads (xterm's default is about 100 kB of
#: base64); past this, saving to a file is the dependable way to hand text over.
MAX_CLIPBOARD_BYTES = 74_000
#: tmux answers in milliseconds; a hung server must not freeze the app for long.
TMUX_TIMEOUT = 2.0
#: What `tmux display -p` reports about the options and the client, one field a line.
_TMUX_FORMAT = "\n".join(
    (
        "#{set-clipboard}",
        "#{allow-passthrough}",
        "#{client_termname}",
        "#{client_termfeatures}",
        "#{session_attached}",
    )
)

Severity = Literal["information", "warning", "error"]
Runner = Callable[..., "subprocess.CompletedProcess[str]"]


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


@dataclass(frozen=True, slots=True)
class TmuxCopy:
    """What a copy inside tmux did, as tmux reports it."""

    #: The text is in a tmux buffer (prefix ] pastes it).
    buffered: bool
    #: Why `tmux load-buffer` failed, one line; None when it worked.
    error: str | None = None
    set_clipboard: str = ""
    passthrough: bool = False
    #: The attached client's terminal (TERM outside tmux), and whether tmux treats it as
    #: taking OSC 52 (its `clipboard` terminal feature).
    terminal: str = ""
    terminal_clipboard: bool = False
    attached: bool = False


def _tmux(args: list[str], text: str | None, run: Runner) -> subprocess.CompletedProcess[str]:
    return run(
        ["tmux", *args],
        input=text,
        capture_output=True,
        text=True,
        timeout=TMUX_TIMEOUT,
        check=True,
    )


def tmux_copy(text: str, run: Runner = subprocess.run) -> TmuxCopy:
    """`tmux load-buffer -w -` with `text`, then what tmux says about passing it on."""
    try:
        _tmux(["load-buffer", "-w", "-"], text, run)
        buffered, error = True, None
    except (OSError, subprocess.SubprocessError) as problem:
        buffered, error = False, _reason(problem)
    try:
        shown = _tmux(["display-message", "-p", _TMUX_FORMAT], None, run).stdout
    except (OSError, subprocess.SubprocessError):
        return TmuxCopy(buffered=buffered, error=error)
    fields = [*shown.split("\n"), "", "", "", "", ""][:5]
    set_clipboard, passthrough, terminal, features, attached = fields
    return TmuxCopy(
        buffered=buffered,
        error=error,
        set_clipboard=set_clipboard.strip(),
        passthrough=passthrough.strip() in ("1", "on", "all"),
        terminal=terminal.strip(),
        terminal_clipboard="clipboard" in features.split(","),
        attached=attached.strip() not in ("", "0"),
    )


def _reason(problem: BaseException) -> str:
    if isinstance(problem, FileNotFoundError):
        return "there is no tmux command here"
    if isinstance(problem, subprocess.TimeoutExpired):
        return "tmux did not answer"
    if isinstance(problem, subprocess.CalledProcessError):
        said = " ".join(str(problem.stderr or "").split())
        return said or f"tmux exited with status {problem.returncode}"
    return str(problem)


def copy_notice(what: str, text: str, tmux: TmuxCopy | None) -> tuple[str, Severity]:
    """The toast after a copy: exactly what happened, and what would make the rest work."""
    count = f"{len(text):,} characters"
    if tmux is None:
        return f"Copied {what} ({count}).", "information"
    if not tmux.buffered:
        if tmux.passthrough:
            return (
                f"Sent {what} ({count}) to your terminal's clipboard through tmux's "
                f"passthrough (tmux load-buffer failed: {tmux.error}).",
                "warning",
            )
        return (
            f"Could not copy {what}: tmux load-buffer failed ({tmux.error}), and tmux drops "
            "the terminal's copy sequence while allow-passthrough is off "
            "(tmux set -g allow-passthrough on enables it).",
            "error",
        )
    head = f"Copied {what} ({count}) into a tmux buffer (prefix ] pastes it)"
    if tmux.set_clipboard == "off":
        return (
            f"{head}, not to your terminal's clipboard: tmux's set-clipboard is off "
            "(tmux set -g set-clipboard external enables it).",
            "warning",
        )
    if not tmux.attached:
        return f"{head}; no terminal is attached to tmux to pass it on to.", "warning"
    if tmux.set_clipboard and not tmux.terminal_clipboard:
        terminal = tmux.terminal or "your terminal"
        return (
            f"{head}, not to your terminal's clipboard: tmux does not know {terminal} takes "
            f"OSC 52 (tmux set -as terminal-features ',{tmux.terminal or 'TERM'}:clipboard' "
            "enables it).",
            "warning",
        )
    return (
        f"{head}; tmux passed it on to your terminal's clipboard "
        f"(set-clipboard {tmux.set_clipboard or 'external'}), if the terminal allows OSC 52.",
        "information",
    )
