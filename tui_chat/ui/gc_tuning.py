"""When Python's cycle collector may make a full pass in the app: only at quiet moments.

A full collection walks every object the process holds, and a chat keeps adding them
(a reply's strips, widgets, caches): by the 30th reply one pass walked 290k objects
and took 0.2-0.4 s (measured with `gc.callbacks` in the installed app), a stall in
which the log jumped past whole lines. So, as Textual does for smooth scrolling
(`App.PAUSE_GC_ON_SCROLL`), full passes never run on their own: young objects are
collected as usual, and a full pass runs half a second after the last reply ends,
then freezes what is left (`gc.freeze`), nearly all of it long-lived, so the next pass
walks only what is new since (one reply's worth: a few ms). Objects made before the
first frame (modules, classes, the provider) are frozen at once, uncollected: the
start-up pass cost 39 ms just after the prompt was drawn.

A frozen object that later becomes cyclic garbage is not collected until a pass walks
the frozen ones again. A chat leaves about 1,200 such objects a reply (counted in a
20-reply Pilot run), so every `WHOLE_EVERY`th quiet pass unfreezes first and walks
everything (0.15-0.2 s at 20 replies, while the reader reads); and a reply widget
leaving the screen (a new chat, a retry, compare mode closing) may make a whole turn
garbage, so it makes the next quiet pass a whole one. And a pass runs at least every
`BACKSTOP` seconds whatever happens (one reply streaming for minutes, a chat left open
with no reply, a reply whose end was never heard): over what is new only while a reply
streams.

Only the app's process is tuned (`tune_gc`, from the CLI); elsewhere (tests, `ask`,
`serve`) the hooks only count, since a frozen test process would never free a thing.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable

#: Gen-2 threshold that no count reaches: full passes run only in `_settle`.
NEVER = 1 << 30
#: Seconds after the last reply ends (or a reply widget leaves) before the full pass.
QUIET_AFTER = 0.5
#: Every this many quiet passes, one walks the frozen objects too.
WHOLE_EVERY = 10
#: Seconds after which a pass runs anyway.
BACKSTOP = 60.0

_tuned = False
_streaming = 0  # replies on screen that have not ended
_pending: asyncio.TimerHandle | None = None
_backstop: asyncio.TimerHandle | None = None
_passes = 0  # quiet passes since the last whole one


def tune_gc() -> None:
    """Call once, when the first frame is out: freeze start-up, collect young objects
    only from now on, and full passes at quiet moments."""
    global _tuned
    _tuned = True
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, NEVER)
    gc.enable()
    _schedule_backstop()


def reply_started() -> None:
    """Counted tuned or not: a reply may begin before the first frame is out."""
    global _streaming
    _streaming += 1
    _cancel()


def reply_ended() -> None:
    global _streaming
    _streaming = max(0, _streaming - 1)
    if _tuned:
        _schedule()


def forget() -> None:
    """Objects frozen earlier may be garbage now: the next quiet pass is a whole one."""
    global _passes
    if _tuned:
        _passes = WHOLE_EVERY
        _schedule()


def _cancel() -> None:
    global _pending
    if _pending is not None:
        _pending.cancel()
        _pending = None


def _call_later(seconds: float, callback: Callable[[], None]) -> asyncio.TimerHandle | None:
    try:
        return asyncio.get_running_loop().call_later(seconds, callback)
    except RuntimeError:  # no loop (or a closed one): nothing to time it by
        return None


def _schedule() -> None:
    global _pending
    _cancel()
    _pending = _call_later(QUIET_AFTER, _settle)


def _schedule_backstop() -> None:
    global _backstop
    if _backstop is not None:
        _backstop.cancel()
    _backstop = _call_later(BACKSTOP, _pass_anyway)


def _pass_anyway() -> None:
    if _streaming:
        gc.collect()  # what is new only: the frozen stay frozen
        gc.freeze()
        _schedule_backstop()
    else:
        _settle()


def _settle() -> None:
    global _passes
    _cancel()
    if _streaming:
        return  # another reply began: its end settles
    _schedule_backstop()
    _passes += 1
    if _passes >= WHOLE_EVERY:
        _passes = 0
        gc.unfreeze()
    gc.collect()
    gc.freeze()
