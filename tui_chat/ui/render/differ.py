"""A shadow of the terminal's cells, and the bytes that turn it into the next frame.

Textual sends every update as whole strips with full SGR codes. This keeps two grids of
cells (char + pen): `desired`, what the app last drew, and `shadow`, what the terminal
shows. `flush()` writes only the cells that differ, with short cursor moves and only the
SGR codes that changed; when the frame is the old one shifted inside a band of rows it
first scrolls that band with a scroll region (like ncurses' hashmap.c and mosh's frame
diff), so a scrolling log costs its new rows, not the viewport. Frames applied between
two flushes merge for free: only the latest desired screen is ever written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from rich.cells import get_character_cell_size
from rich.color import ColorSystem
from rich.segment import Segment
from rich.style import Style
from textual._compositor import ChopsUpdate, LayoutUpdate
from textual.strip import Strip

from tui_chat.ui.render.pen import SHOWS_ON_BLANK, Pen, pen_of, switch

UNKNOWN = -1  # pen id of a cell whose content is not known (never equal to a real one)
MERGE_GAP = 4  # rewrite up to this many unchanged cells rather than move over them
MIN_EL = 1  # clear a blank tail with EL (it never leaves the cursor pending a wrap)
MIN_ECH = 10  # clear a blank stretch with ECH + a move from this many cells
SCROLL_MIN_ROWS = 3  # bands smaller than this are cheaper to repaint
ALIKE_MIN_ROWS = 3  # rows that look the same, from this many, go out a pen at a time
#: With a budget (a paced frame's part), rows that look the same go out this many at a
#: time, so a part stops near its budget: a key's echo waits behind at most that part.
ALIKE_PART_ROWS = 4


class Grid:
    """Rows of cells: `chars[y][x]` ("" right of a wide char) and `pens[y][x]` (pen ids)."""

    def __init__(self, width: int, height: int) -> None:
        self.width = width
        self.height = height
        self.chars = [[" "] * width for _ in range(height)]
        self.pens = [[UNKNOWN] * width for _ in range(height)]

    def forget(self, rows: Iterable[int] | None = None) -> None:
        for y in range(self.height) if rows is None else rows:
            self.chars[y] = [" "] * self.width
            self.pens[y] = [UNKNOWN] * self.width


def _unsure(text: str) -> bool:
    """Characters whose width terminals may see otherwise (wide, or zero-width ones
    such as an emoji's variation selector)."""
    return any(get_character_cell_size(ch) != 1 for ch in text)


def _vertical(d: int) -> str:
    if d == 0:
        return ""
    if d > 0:
        return "\x1b[B" if d == 1 else f"\x1b[{d}B"
    return "\x1b[A" if d == -1 else f"\x1b[{-d}A"


def _across(d: int) -> str:
    if d == 0:
        return ""
    if d > 0:
        return "\x1b[C" if d == 1 else f"\x1b[{d}C"
    return "\b" * -d if d >= -3 else f"\x1b[{-d}D"


class ScreenDiffer:
    """Turns compositor updates into the fewest bytes that bring the terminal up to date."""

    def __init__(
        self, width: int, height: int, color_system: ColorSystem = ColorSystem.TRUECOLOR
    ) -> None:
        self.color_system = color_system
        self._pens: list[Pen] = []
        self._pen_ids: dict[Pen, int] = {}
        self._style_ids: dict[Style, int] = {}
        self._blank_look: list[tuple[object, ...]] = []  # per pen: how a blank cell looks
        self._switches: dict[tuple[int | None, int], str] = {}
        self.resize(width, height)

    # -- state ------------------------------------------------------------------------

    def resize(self, width: int, height: int) -> None:
        """Start over at a new size: nothing of what the terminal shows is known."""
        self.width, self.height = width, height
        self.desired = Grid(width, height)
        self.shadow = Grid(width, height)
        self.dirty: set[int] = set()
        self.invalidate()

    def invalidate(self) -> None:
        """Forget what the terminal shows (after a resume or a foreign write): repaint all."""
        self.shadow.forget()
        self.dirty = set(range(self.height))
        self.pen_id: int | None = None  # the terminal's SGR state, None if unknown
        self.cursor: tuple[int, int] | None = None
        #: Rows where a wide or zero-width character was written: terminals do not all
        #: agree with Rich on those widths, so the cursor's column there is not certain.
        self.shaky: set[int] = set()

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height

    def _pen_id(self, style: Style | None) -> int:
        if style is None:
            style = Style.null()
        pid = self._style_ids.get(style)
        if pid is None:
            if len(self._style_ids) > 20_000:
                self._style_ids.clear()  # styles carry per-widget meta; keep this bounded
            pen = pen_of(style, self.color_system)
            pid = self._pen_ids.get(pen)
            if pid is None:
                pid = self._pen_ids[pen] = len(self._pens)
                self._pens.append(pen)
                shows = pen.attrs & SHOWS_ON_BLANK
                self._blank_look.append((pen.bg, shows, pen.link, pen.fg if shows else ""))
            self._style_ids[style] = pid
        return pid

    def _switch(self, old: int | None, new: int) -> str:
        key = (old, new)
        codes = self._switches.get(key)
        if codes is None:
            codes = self._switches[key] = switch(
                None if old is None else self._pens[old], self._pens[new]
            )
        return codes

    # -- drawing into the desired screen -----------------------------------------------

    def put(self, x: int, y: int, segments: Iterable[Segment]) -> int:
        """Draw `segments` at (x, y) of the desired screen; returns the column after them."""
        if not 0 <= y < self.height:
            return x
        width = self.width
        chars, pens = self.desired.chars[y], self.desired.pens[y]
        start = x
        # Overwriting half of a wide char leaves its other half blank.
        cut_head = 0 < start < width and chars[start] == ""
        for text, style, control in segments:
            if control or not text:
                continue
            pid = self._pen_id(style)
            if text.isascii() and text.isprintable():
                n = len(text)
                a, b = max(x, 0), min(x + n, width)
                if b > a:
                    chars[a:b] = text[a - x : b - x]
                    pens[a:b] = [pid] * (b - a)
                x += n
                continue
            for ch in text:
                w = get_character_cell_size(ch)
                if w == 0:
                    head = x - 1
                    if 0 <= head < width:
                        if chars[head] == "" and head > 0:
                            head -= 1
                        chars[head] += ch
                    continue
                if 0 <= x and x + w <= width:
                    chars[x] = ch
                    pens[x] = pid
                    if w == 2:
                        chars[x + 1] = ""
                        pens[x + 1] = pid
                elif 0 <= x < width:  # a wide char cut by the edge shows as a blank
                    chars[x] = " "
                    pens[x] = pid
                x += w
        if x > start:
            if cut_head:
                chars[start - 1] = " "
            if 0 <= x < width and chars[x] == "":
                chars[x] = " "
        self.dirty.add(y)
        return x

    def apply(self, update: LayoutUpdate | ChopsUpdate) -> None:
        """Draw a compositor update into the desired screen (nothing is written yet)."""
        if isinstance(update, LayoutUpdate):
            x0 = update.region.x
            for y, line in enumerate(update.strips, update.region.y):
                x = x0
                for strip in line:
                    x = self.put(x, y, strip)
            return
        self._apply_chops(update.chops, update.spans, update.chop_ends)

    def _apply_chops(
        self,
        chops: Sequence[Mapping[int, Strip | None]],
        spans: list[tuple[int, int, int]],
        chop_ends: list[list[int]],
    ) -> None:
        # The same cuts as ChopsUpdate.render_segments, drawn into cells.
        for y, x1, x2 in spans:
            for end, (x, strip) in zip(chop_ends[y], chops[y].items(), strict=False):
                if strip is None or x > x2 or end <= x1:
                    continue
                if not (x2 > x >= x1 and end <= x2):
                    strip = strip.crop(0, min(end, x2) - x)
                self.put(x, y, strip)

    # -- writing the difference -------------------------------------------------------

    def flush(
        self,
        cursor: tuple[int, int] | None = None,
        budget: int | None = None,
        first: int | None = None,
    ) -> str:
        """The bytes that make the terminal show the desired screen; the shadow follows.

        `cursor` is where the terminal cursor should rest afterwards (Textual puts it
        where an input's caret is, for IMEs); it is only moved when something was drawn
        or it is asked to be elsewhere. With a `budget` (characters), rows stop going
        out once that much is written, and those left stay dirty for the next flush: a
        big frame behind a slow link then goes in parts, the row of `first` (the
        caret's: a key's echo) ahead of them.
        """
        out: list[str] = []
        if len(self.dirty) >= SCROLL_MIN_ROWS:
            self._scroll(out)
        rows = sorted(self.dirty)
        if budget is not None and first is not None and first in self.dirty:
            rows.remove(first)
            rows.insert(0, first)
        i = 0
        while i < len(rows):
            if budget is not None and sum(map(len, out)) >= budget:
                self.dirty = set(rows[i:])
                break
            j = i + 1
            most = len(rows) if budget is None else min(len(rows), i + ALIKE_PART_ROWS)
            while j < most and rows[j] == rows[j - 1] + 1 and self._alike(rows[i], rows[j]):
                j += 1
            if j - i >= ALIKE_MIN_ROWS:
                self._alike_rows(rows[i:j], out)
            else:
                for y in rows[i:j]:
                    self._row(y, out)
            i = j
        else:
            self.dirty.clear()
        if cursor is not None and self.cursor != cursor:
            out.append(self._move(*cursor))
            self.cursor = cursor
        return "".join(out)

    def _move(self, x: int, y: int) -> str:
        return self._move_from(self.cursor, x, y)

    def _move_from(self, cur: tuple[int, int] | None, x: int, y: int) -> str:
        cup = f"\x1b[{y + 1}H" if x == 0 else f"\x1b[{y + 1};{x + 1}H"
        if cur is None:
            return cup
        cx, cy = cur
        if (cx, cy) == (x, y):
            return ""
        if x == 0 and y == cy + 1:
            return "\r\n"  # never on the last row, so it cannot scroll
        if cy != y and x and cy in self.shaky:
            return cup  # a column off on this row must not carry to the next
        # Up or down, then across: "\x1b[B\b" (4 bytes) takes a column of cells, such as
        # a scrollbar that moved, for less than half of a cursor position each.
        best = _vertical(y - cy) + ("\r" if x == 0 and cx else _across(x - cx))
        return best if len(best) < len(cup) else cup

    def _alike(self, y: int, y2: int) -> bool:
        """Rows the terminal knows nothing of (scrolled in, say) that are to look the same."""
        pens = self.desired.pens[y]
        return (
            self.desired.chars[y2] == self.desired.chars[y]
            and self.desired.pens[y2] == pens
            and UNKNOWN not in pens
            and all(pen == UNKNOWN for pen in self.shadow.pens[y])
            and all(pen == UNKNOWN for pen in self.shadow.pens[y2])
        )

    def _alike_rows(self, rows: list[int], out: list[str]) -> None:
        """Write rows that look the same one pen's stretch at a time, down all the rows,
        so that each pen is set once rather than once per row: the room kept below a
        streaming reply (its bar, blanks, the scrollbar's track) costs a few bytes a row.

        Each row is first cleared (EL) to the blank most of it is, so only the cells
        that look otherwise go out; EL also reaches the last column without leaving
        the cursor in the pending-wrap state, which costs a full move per row."""
        top, width = rows[0], self.width
        chars, pens = self.desired.chars[top], self.desired.pens[top]
        look = self._blank_look
        todo = list(range(width))
        base = self._clearing_pen(chars, pens)
        if base is not None:
            for y in rows:
                out.append(self._move(0, y))
                if self.pen_id != base:
                    out.append(self._switch(self.pen_id, base))
                    self.pen_id = base
                out.append("\x1b[K")
                self.cursor = (0, y)
            todo = [x for x in todo if chars[x] != " " or look[pens[x]] != look[base]]
        stretches: list[tuple[int, int]] = []
        for x in todo:
            if stretches and stretches[-1][1] == x and pens[x] == pens[x - 1]:
                stretches[-1] = (stretches[-1][0], x + 1)
            else:
                stretches.append((x, x + 1))
        for a, b in stretches:
            for y in rows:
                self._write_run(y, a, b, out)
        for y in rows:
            self.shadow.chars[y], self.shadow.pens[y] = list(chars), list(pens)

    def _clearing_pen(self, chars: list[str], pens: list[int]) -> int | None:
        """The pen of the blank that most of a row is (None if too little of it is for
        a clear to pay): one that shows nothing on a blank, as EL fills with it."""
        counts: dict[tuple[object, ...], int] = {}
        first: dict[tuple[object, ...], int] = {}
        for ch, pid in zip(chars, pens, strict=True):
            if ch == " " and not self._pens[pid].attrs & SHOWS_ON_BLANK:
                key = self._blank_look[pid]
                counts[key] = counts.get(key, 0) + 1
                first.setdefault(key, pid)
        if not counts:
            return None
        key = max(counts, key=counts.__getitem__)
        return first[key] if counts[key] >= MIN_ECH else None

    def _row(self, y: int, out: list[str]) -> None:
        dc, dp = self.desired.chars[y], self.desired.pens[y]
        sc, sp = self.shadow.chars[y], self.shadow.pens[y]
        if dp == sp and dc == sc:
            return
        width = self.width
        look = self._blank_look
        changed = [
            x
            for x in range(width)
            if dp[x] != UNKNOWN
            and (
                dc[x] != sc[x]
                or (
                    dp[x] != sp[x]
                    and (dc[x] != " " or sp[x] == UNKNOWN or look[dp[x]] != look[sp[x]])
                )
            )
        ]
        if not changed:
            return
        runs: list[list[int]] = []
        for x in changed:
            if runs and x - runs[-1][1] <= MERGE_GAP and UNKNOWN not in dp[runs[-1][1] : x]:
                runs[-1][1] = x + 1
            else:
                runs.append([x, x + 1])
        for a, b in runs:
            # A few unchanged cells between the cursor and the run: rewriting them in
            # the pen already set is cheaper than a move (a word after its space).
            cur = self.cursor
            if cur is not None and cur[1] == y and 0 < a - cur[0] <= MERGE_GAP:
                pid_now = self.pen_id
                if (
                    pid_now is not None
                    and all(
                        dp[i] == pid_now
                        or (dc[i] == " " and dp[i] != UNKNOWN and look[dp[i]] == look[pid_now])
                        for i in range(cur[0], a)
                    )
                    and dc[cur[0]] != ""
                ):
                    a = cur[0]
            # Widen to whole wide chars, in the frame and on the terminal.
            while True:
                a0, b0 = a, b
                if a > 0 and (dc[a] == "" or sc[a] == ""):
                    a -= 1
                if b < width and (dc[b] == "" or sc[b] == ""):
                    b += 1
                if (a, b) == (a0, b0):
                    break
            self._write_run(y, a, b, out)
            sc[a:b] = dc[a:b]
            sp[a:b] = dp[a:b]

    def _write_run(self, y: int, a: int, b: int, out: list[str]) -> None:
        """Write desired cells [a, b) of row y, clearing long blanks instead of sending them."""
        width = self.width
        dc, dp = self.desired.chars[y], self.desired.pens[y]
        pens, look = self._pens, self._blank_look
        # A blank tail to the row's end is cleared with EL instead of spaces.
        tail = b
        if b == width:
            last = dp[b - 1]
            if last != UNKNOWN and not pens[last].attrs & SHOWS_ON_BLANK:
                while tail > a and dc[tail - 1] == " " and look[dp[tail - 1]] == look[last]:
                    tail -= 1
                if width - tail < MIN_EL:
                    tail = b
        out.append(self._move(a, y))
        pid_now = self.pen_id
        x = cx = a
        while x < tail:
            pid = dp[x]
            if dc[x] == "":
                x += 1
                continue
            if pid == UNKNOWN:
                pid = self._pen_id(None)
            # Consecutive cells of one pen go out as one string.
            j = x + 1
            while j < tail and dp[j] == pid:
                j += 1
            text = "".join(dc[x:j])
            blank = not text.strip(" ")
            # A blank looks the same in any pen of the same background.
            if pid != pid_now and not (
                blank and pid_now is not None and look[pid_now] == look[pid]
            ):
                out.append(self._switch(pid_now, pid))
                pid_now = pid
            erasable = not pens[pid_now].attrs & SHOWS_ON_BLANK
            if blank and j - x >= MIN_ECH and erasable:
                out.append(f"\x1b[{j - x}X")  # ECH: erase in place, the cursor stays
                if j < tail:
                    out.append(f"\x1b[{j - x}C")
                    cx = j
            else:
                # Words then a long blank in one pen (a line of text, then the rest
                # of its row): the blank is erased, not sent as spaces.
                words = text.rstrip(" ") if erasable else text
                spaces = len(text) - len(words)  # cells: a space is one
                if spaces < MIN_ECH:
                    words, spaces = text, 0
                out.append(words)
                if not words.isascii() and _unsure(words):
                    self.shaky.add(y)
                cx = j
                if spaces:
                    out.append(f"\x1b[{spaces}X")
                    if j < tail:
                        out.append(f"\x1b[{spaces}C")
                    else:
                        cx = j - spaces
            x = j
        if tail < b:
            last = dp[b - 1]
            if pid_now is None or look[pid_now] != look[last]:
                out.append(self._switch(pid_now, last))
                pid_now = last
            out.append(self._move_from((cx, y), tail, y) + "\x1b[K")
            cx = tail
        self.pen_id = pid_now
        # Writing the last column leaves the cursor in a pending-wrap state, which
        # emulators tell apart from the last column differently: only a CUP is safe.
        self.cursor = (cx, y) if cx < width else None

    # -- scroll detection -------------------------------------------------------------

    def _scroll(self, out: list[str]) -> None:
        """Move rows the terminal already shows with a scroll region, if that is cheaper."""
        dc, sc = self.desired.chars, self.shadow.chars
        dtext = ["".join(row) for row in dc]
        stext = ["".join(row) for row in sc]
        where: dict[str, list[int]] = {}
        for y, text in enumerate(stext):
            if text.strip() and self.shadow.pens[y][0] != UNKNOWN:
                where.setdefault(text, []).append(y)
        votes: dict[int, int] = {}
        for y in self.dirty:
            if dtext[y] == stext[y]:
                continue
            for y2 in where.get(dtext[y], ()):
                votes[y2 - y] = votes.get(y2 - y, 0) + 1
        if not votes:
            return
        best: tuple[int, int, int, int] | None = None  # saving, k, top, bottom
        costs: dict[tuple[int, int | None], int] = {}  # the candidates share most rows
        for k in sorted(votes, key=votes.__getitem__, reverse=True)[:3]:
            if votes[k] < 2:
                break
            band = self._band(k, dtext, stext)
            if band is None:
                continue
            # A row or two past the band may have moved and changed too (the line
            # being written as the log jumps): moved with it, only its change goes out.
            for extra in range(3):
                top, bottom = band
                if k > 0:
                    bottom += extra
                else:
                    top -= extra
                if top < 0 or bottom >= self.height:
                    break
                saving = self._saving(k, top, bottom, costs)
                if saving > 0 and (best is None or saving > best[0]):
                    best = (saving, k, top, bottom)
        if best is None:
            return
        _, k, top, bottom = best
        self._emit_scroll(k, top, bottom, out)

    def _band(self, k: int, dtext: list[str], stext: list[str]) -> tuple[int, int] | None:
        """The rows [top, bottom] scrolled by k (k > 0: content moved up k rows)."""
        height = self.height
        matched = [0 <= y + k < height and dtext[y] == stext[y + k] for y in range(height)]
        # The longest run of matching rows, allowing gaps of two rows that changed too.
        runs: list[list[int]] = []
        for y in range(height):
            if matched[y]:
                if runs and y - runs[-1][1] <= 3:
                    runs[-1][1] = y
                else:
                    runs.append([y, y])
        if not runs:
            return None
        first, last = max(runs, key=lambda r: r[1] - r[0])
        if last - first + 1 < 2:
            return None
        if k > 0:
            top, bottom = first, last + k
        else:
            top, bottom = first + k, last
        if top < 0 or bottom >= height or bottom - top + 1 < SCROLL_MIN_ROWS:
            return None
        return top, bottom

    def _cost(self, y: int, src: int | None) -> int:
        """Cells of desired row y that differ from shadow row `src` (None: a new row)."""
        dc, dp = self.desired.chars[y], self.desired.pens[y]
        if src is None:
            return self.width
        sc, sp = self.shadow.chars[src], self.shadow.pens[src]
        if dc == sc and dp == sp:
            return 0
        return sum(
            1 for a, b, p, q in zip(dc, sc, dp, sp, strict=True) if a != b or p != q or q == UNKNOWN
        )

    def _saving(
        self, k: int, top: int, bottom: int, costs: dict[tuple[int, int | None], int]
    ) -> int:
        """Cells saved by scrolling rows [top, bottom] by k; `costs` keeps each row's
        comparison for the other candidates, which cover nearly the same rows."""

        def cost(y: int, src: int | None) -> int:
            key = (y, src)
            found = costs.get(key)
            if found is None:
                found = costs[key] = self._cost(y, src)
            return found

        before = sum(cost(y, y) for y in range(top, bottom + 1))
        after = 16
        for y in range(top, bottom + 1):
            src = y + k
            after += cost(y, src if top <= src <= bottom else None)
        return before - after

    def _emit_scroll(self, k: int, top: int, bottom: int, out: list[str]) -> None:
        full = top == 0 and bottom == self.height - 1
        if not full:
            out.append(f"\x1b[{top + 1};{bottom + 1}r")  # DECSTBM (homes the cursor)
            self.cursor = (0, 0)
        if k > 0:  # index (LF) at the bottom margin: the band moves up, a blank row enters
            out.append(self._move(0, bottom) + "\n" * k)
            self.cursor = (0, bottom)
        else:  # reverse index at the top margin: the band moves down
            out.append(self._move(0, top) + "\x1bM" * -k)
            self.cursor = (0, top)
        if not full:
            # Margins back to the whole screen. xterm homes the cursor here, some
            # emulators leave it: the next move is absolute either way.
            out.append("\x1b[r")
            self.cursor = None
        chars, pens = self.shadow.chars, self.shadow.pens
        rows = range(top, bottom + 1)
        moved = [(chars[y + k], pens[y + k]) if top <= y + k <= bottom else None for y in rows]
        for y, row in zip(rows, moved, strict=True):
            if row is None:
                self.shadow.forget([y])  # cleared by the terminal, in colours of its own
            else:
                chars[y], pens[y] = list(row[0]), list(row[1])
        self.dirty.update(rows)
