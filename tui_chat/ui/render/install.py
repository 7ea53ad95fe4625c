"""Put the differ between Textual's compositor and the terminal, paced by the drain.

`App._display` turns each compositor update into a full string of SGR-coded runs and
queues it behind whatever the writer thread still holds. Here the update is drawn into
the differ's desired screen instead; it is written (as a diff against what the terminal
has) only once the previous output has left the process, so behind a slow link frames
never queue: the next write carries the latest screen, and the frames in between cost
nothing. The event loop never blocks on a full writer queue, so keys stay prompt.

Over SSH, "left the process" says little: sshd takes all of it into a socket at once.
So a frame also carries a probe (DSR 6: the terminal answers with the cursor's
position), and while more characters are written that the terminal has not answered
for than it takes in KEY_WAIT (at the rate its answers show, and at least IN_FLIGHT),
the next frame waits, as mosh paces by what the client has shown; a big frame goes in
parts that fill what is left of that window, the caret's row first. A key's echo then
waits behind at most that much, however slow the link. A terminal that never answers
is paced as before.
"""

from __future__ import annotations

import asyncio
import fcntl
import struct
import termios
import time
from collections.abc import Callable, Sequence
from types import MethodType
from typing import IO, Any

from textual import events
from textual._compositor import ChopsUpdate, LayoutUpdate
from textual.app import App
from textual.driver import Driver
from textual.geometry import Region
from textual.screen import Screen
from textual.widget import Widget

from tui_chat.ui.render.differ import ScreenDiffer
from tui_chat.ui.render.direct import can_paint
from tui_chat.ui.render.rows import render_only_dirty_rows

POLL = 0.008  # seconds between looks at a terminal that has not drained
OUTQ_LIMIT = 512  # bytes a tty's output queue may hold before a frame waits
SYNC_FROM = 512  # frames this long are wrapped in synchronized output (mode 2026)
PARK_AFTER = 0.15  # seconds of quiet before the (hidden) cursor goes back to the caret
PROBE = "\x1b[6n"  # DSR 6: the terminal answers with a cursor position report (CPR)
PROBE_FROM = 256  # characters not yet answered for before a frame carries a probe
#: Characters the terminal may be behind by (not yet answered for) before frames wait:
#: 64 ms of a 64 kbit/s link, which is what a key's echo can wait behind.
IN_FLIGHT = 512
KEY_WAIT = 0.06  # seconds of output, at the rate the terminal takes it, a key may wait behind
#: The least a paced part carries, so a frame still moves on while the window is nearly
#: full (a cursor move and a few cells: not worth a round trip of its own).
PART_MIN = 64
LOST_AFTER = 5.0  # seconds: a probe not answered by then is taken as lost


class _CountingFile:
    """The driver's output file, counting what has really been handed to the kernel."""

    def __init__(self, file: IO[str]) -> None:
        self._file = file
        self.written = 0  # characters through write() + flush() in the writer thread
        self._pending = 0

    def write(self, text: str) -> int:
        result = self._file.write(text)
        self._pending += len(text)
        return result

    def flush(self) -> None:
        self._file.flush()
        self.written += self._pending
        self._pending = 0

    def fileno(self) -> int:
        return self._file.fileno()

    def isatty(self) -> bool:
        return self._file.isatty()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)


def _counting_driver(base: type[Driver]) -> type[Driver]:
    """A subclass of `base` whose writes can be told apart: queued, or gone out."""

    class CountingDriver(base):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.render_queued = 0
            #: Called (on the input thread) with a cursor report's row: True if it was
            #: the answer to the render layer's probe.
            self.on_probe_answer: Callable[[int], bool] | None = None
            file = getattr(self, "_file", None)
            self.render_file = _CountingFile(file) if file is not None else None
            if self.render_file is not None:
                self._file = self.render_file

        def write(self, data: str) -> None:
            self.render_queued += len(data)
            super().write(data)

        def process_message(self, message: Any) -> None:
            ours = self.on_probe_answer
            if isinstance(message, events.CursorPosition) and ours is not None and ours(message.y):
                return  # the layer's probe answered: not for the app
            super().process_message(message)

    CountingDriver.__name__ = CountingDriver.__qualname__ = f"Counting{base.__name__}"
    return CountingDriver


def _tty_outq(fd: int) -> int:
    """Bytes waiting in a tty's output queue (0 where the kernel does not say, as on ptys)."""
    try:
        return struct.unpack("i", fcntl.ioctl(fd, termios.TIOCOUTQ, b"\0\0\0\0"))[0]
    except OSError:
        return 0


class RenderLayer:
    """The state kept per app: the differ, and whether a paced flush is waiting."""

    def __init__(self, app: App[Any]) -> None:
        self.app = app
        self.differ: ScreenDiffer | None = None
        self.waiting = False
        self.subscribed = False
        self.caret: tuple[int, int] | None = None  # where the app wants the cursor
        self.parking: asyncio.TimerHandle | None = None
        self.original = app._display
        #: Whether the terminal answers probes: None until it first has, False once one
        #: went unanswered for LOST_AFTER (then paced by the process alone, as before).
        self.answers: bool | None = None
        self.answered = 0  # characters written before the last probe answered
        self.probe: int | None = None  # characters written before the probe out, if one is
        self.probe_at = 0.0
        self.answered_at = 0.0  # when the last answer came
        #: How fast the terminal has been seen to take output (chars/s, a lower bound:
        #: the most it went through between two answers, over the time between them).
        self.rate = 0.0

    def in_flight(self) -> int:
        """Characters the terminal may be behind by: what it takes in KEY_WAIT seconds
        at the rate seen (at least IN_FLIGHT), so a fast link with a long round trip
        is not held to a slow link's share."""
        return max(IN_FLIGHT, int(self.rate * KEY_WAIT))

    def part_budget(self, driver: Any) -> int | None:
        """Characters the next part of a frame may carry: what is left of the window
        (`in_flight()` less what the terminal has not answered for), so a key's echo
        waits behind one window, not a window already out plus a whole part more.
        None for a terminal that does not answer: it is paced by the process alone."""
        if not self.answers:
            return None
        unanswered = getattr(driver, "render_queued", 0) - self.answered
        return max(self.in_flight() - unanswered, PART_MIN)

    def _behind(self, driver: Any) -> bool:
        """Is the terminal more than `in_flight()` characters behind what it was sent?"""
        if not self.answers or self.probe is None:
            return False
        if driver.render_queued - self.answered < self.in_flight():
            return False
        if time.monotonic() - self.probe_at < LOST_AFTER:
            return True
        self._stop_probing(driver)  # it stopped answering: pace as if it never had
        return False

    def _stop_probing(self, driver: Any) -> None:
        self.answers = False
        self.probe = None
        driver.on_probe_answer = None

    def _send_probe(self, driver: Any, differ: ScreenDiffer) -> None:
        """After a frame: ask the terminal to say when it has got this far. Only with
        the cursor at a known place off the first row (see `_answer_is_ours`)."""
        if self.answers is False or self.probe is not None:
            return
        if driver.render_queued - self.answered < PROBE_FROM:
            return
        if differ.cursor is None or differ.cursor[1] == 0:
            return  # the next frame will ask
        if driver.on_probe_answer is None:
            loop = asyncio.get_running_loop()
            driver.on_probe_answer = lambda y: self._answer_is_ours(y, loop)
        driver.write(PROBE)
        self.probe = driver.render_queued
        self.probe_at = time.monotonic()

    def _answer_is_ours(self, row: int, loop: asyncio.AbstractEventLoop) -> bool:
        """On the input thread: is this cursor report the answer to the probe out? Not
        if it names the first row, where no probe is asked from: a key with modifiers
        such as Shift+F3 (ESC[1;2R) reads as a report of row 1."""
        if self.probe is None or row == 0:
            return False
        loop.call_soon_threadsafe(self._probe_answered)
        return True

    def _probe_answered(self) -> None:
        if self.probe is None:
            return
        now = time.monotonic()
        if self.answers:
            # The terminal went from the last probe to this one between their answers
            # (idle gaps in there only make it look slower).
            took = max(now - self.answered_at, 0.001)
            self.rate = max(self.rate, (self.probe - self.answered) / took)
        self.answers = True
        self.answered, self.probe, self.answered_at = self.probe, None, now
        if self.waiting:
            self.flush()

    def drained(self) -> bool:
        """Has everything written so far left the process (and a tty's queue), and is
        the terminal not too far behind it?"""
        driver = self.app._driver
        if self._behind(driver):
            return False
        file = getattr(driver, "render_file", None)
        if file is not None and file.written < getattr(driver, "render_queued", 0):
            return False
        writer = getattr(driver, "_writer_thread", None)
        if writer is not None and writer._queue.qsize():
            return False
        if file is not None:
            try:
                fd = file.fileno()
            except (OSError, ValueError):
                return True
            return _tty_outq(fd) <= OUTQ_LIMIT
        return True

    def display(self, screen: Screen[Any], renderable: Any) -> None:
        app = self.app
        driver = app._driver
        if (
            not isinstance(renderable, (LayoutUpdate, ChopsUpdate))
            or driver is None
            or driver.is_inline
            or app.is_headless
            or not app._running
            or app._closed
        ):
            if self.differ is not None and renderable is not None and not app._batch_count:
                self.differ.invalidate()  # something else draws: trust nothing we knew
            self.original(screen, renderable)
            return
        try:
            size = (app.size.width, app.size.height)
            differ = self.differ
            if differ is None or differ.size != size:
                differ = self.differ = ScreenDiffer(*size, app.console._color_system)
            if not self.subscribed:
                self.subscribed = True
                app.app_resume_signal.subscribe(app, self._resumed)
            differ.apply(renderable)
            render_only_dirty_rows(screen._compositor)  # from this screen's next frame
            self.flush()
        except Exception as error:
            app._handle_exception(error)
        finally:
            app.post_display_hook()

    def paint(self, widget: Widget, rows: Sequence[int]) -> bool:
        """Render `rows` of `widget` into the desired screen and write them (see
        direct.py); False, having done nothing, when the compositor must do it."""
        app = self.app
        differ = self.differ
        if differ is None or not app._running or app._closed:
            return False
        if differ.size != (app.size.width, app.size.height):
            return False
        placed = can_paint(widget)
        if placed is None:
            return False
        region, visible = placed
        width = region.width
        # The widget's styles cache must render these rows again the next time too.
        widget._styles_cache.set_dirty(*(Region(0, y, width, 1) for y in rows))
        left, right = visible.x - region.x, visible.right - region.x
        shown = [y for y in rows if visible.y <= region.y + y < visible.bottom]
        for y in shown:
            (strip,) = widget.render_lines(Region(left, y, right - left, 1))
            differ.put(visible.x, region.y + y, strip)
        if shown:
            self.flush()
        return True

    def _resumed(self, _app: App[Any]) -> None:
        driver = self.app._driver
        if self.probe is not None and driver is not None:
            self.probe = None  # its answer may have gone to the shell
            self.answered = getattr(driver, "render_queued", 0)
            self.answers = None  # and a probe only after the next answer is trusted
        if self.differ is not None:
            self.differ.invalidate()
            self.flush()

    def flush(self) -> None:
        """Write the difference now if the terminal has drained, else look again soon."""
        app = self.app
        differ, driver = self.differ, app._driver
        if differ is None or driver is None or app._closed:
            return
        if app._batch_count or not self.drained():
            if not self.waiting:
                self.waiting = True
                asyncio.get_running_loop().call_later(POLL, self._poll)
            return
        offset = app.screen.outer_size.clamp_offset(app.cursor_position)
        app._previous_cursor_position = offset
        caret = (offset.x, offset.y)
        # Textual puts the cursor back on the caret after every frame (for IMEs), which
        # costs a move there and one back per frame. The cursor is hidden, so while
        # output streams it stays where the last write left it, and goes back to the
        # caret when the caret moves or the screen has been quiet for PARK_AFTER.
        moved = caret != self.caret
        self.caret = caret
        data = differ.flush(caret if moved else None, self.part_budget(driver), first=caret[1])
        if differ.dirty and not self.waiting:
            self.waiting = True  # the rest of the frame, once the terminal has caught up
            asyncio.get_running_loop().call_later(POLL, self._poll)
        if differ.cursor != caret:
            if self.parking is not None:
                self.parking.cancel()
            self.parking = asyncio.get_running_loop().call_later(PARK_AFTER, self._park)
        if not data:
            return
        sync = app._sync_available and len(data) >= SYNC_FROM
        if sync:
            app._begin_update()
        driver.write(data)
        if sync:
            app._end_update()
        if hasattr(driver, "on_probe_answer"):
            self._send_probe(driver, differ)
        driver.flush()

    def _park(self) -> None:
        self.parking = None
        differ, driver = self.differ, self.app._driver
        if differ is None or driver is None or self.caret is None or self.app._closed:
            return
        if differ.dirty or not self.drained():
            self.parking = asyncio.get_running_loop().call_later(PARK_AFTER, self._park)
            return
        data = differ.flush(self.caret)
        if data:
            driver.write(data)
            driver.flush()

    def _poll(self) -> None:
        self.waiting = False
        try:
            self.flush()
        except Exception as error:
            self.app._handle_exception(error)


def install(app: App[Any]) -> None:
    """Route `app`'s screen updates through the differ; call once, after App.__init__."""
    if getattr(app, "_render_layer", None) is not None:
        return
    layer = RenderLayer(app)
    app._render_layer = layer  # type: ignore[attr-defined]
    app._display = MethodType(lambda _self, screen, r: layer.display(screen, r), app)  # type: ignore[method-assign]
    app.driver_class = _counting_driver(app.driver_class)
