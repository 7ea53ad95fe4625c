"""A reply's Markdown as lines of cells, so that a new word repaints only its line.

Textual's Markdown widget is a tree of block widgets: every change re-parses the
source, re-lays out the blocks and repaints their regions whole, which at chat speeds
cost 15 ms of CPU per token. Here the reply is cut into top-level blocks as it grows
(`settle_point`): a finished block is rendered once (Rich's Markdown) and kept as
strips; only the last, unfinished block is rendered again, its strips are compared with
the last frame's, and only the lines that differ are refreshed (Textual's Line API).
While the reply streams, room is kept below it (the runway), so new lines fill blank
rows instead of growing the widget, and the log is laid out again only once per jump.

A code block that is still open is drawn line by line instead (each finished line is
highlighted once, the growing line alone on each change), since highlighting the whole
block per token costs several ms; once it closes it is rendered whole like any block.
Two more shapes of tail are not rendered whole per token: a tight list draws its
finished items once and only the item being written again, and a table's unfinished row
is drawn when its line ends (Rich sizes a table's columns from every row, so a growing
cell re-lays out, and repaints, the whole table: 1.7 ms a token).
"""

from __future__ import annotations

import re
import threading
from functools import cache

from markdown_it import MarkdownIt
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound
from rich.console import ConsoleOptions
from rich.markdown import Markdown as RichMarkdown
from rich.segment import Segment
from rich.style import Style
from rich.syntax import Syntax
from rich.text import Text
from textual.color import Color
from textual.geometry import Region, Size
from textual.selection import Selection
from textual.strip import Strip

from tui_chat.core.sanitize import clean
from tui_chat.ui.render.direct import paint_rows
from tui_chat.ui.widgets.conversation.growing_paragraph import (
    GrowingParagraph,
    list_item_text,
    paragraph_text,
)
from tui_chat.ui.widgets.conversation.markdown_segments import FENCE, open_fence, settle_point
from tui_chat.ui.widgets.conversation.one_layout import OneLayout

#: Code highlighting for replies, close to Textual's Markdown fences.
CODE_THEME = "monokai"
#: Room kept below streaming text, as a share of the screen's height. The log is laid
#: out again (and scrolls) only when the text has filled it: in jumps, not per line.
RUNWAY_SHARE = 1 / 3
#: Styles with a cell's offset kept for the rows drawn again (`_with_offsets`); past
#: this many they are made anew, so a long reply does not hold one per cell it drew.
OFFSET_STYLES_KEPT = 4096


class ReplyBody(OneLayout):
    """The Markdown of one reply; `append` grows it, `finish` gives back the runway."""

    ALLOW_SELECT = True
    COMPONENT_CLASSES = {"reply-body--waiting"}
    DEFAULT_CSS = """
    ReplyBody { height: auto; }
    """

    def __init__(self, source: str = "", *, live: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self._live = live
        self._done: list[str] = []  # the sources of finished blocks
        self._tail = ""  # the unfinished last block, rendered again on each change
        self._width = 0  # the width the strips below were rendered at
        self._done_lines: list[Strip] = []  # finished blocks, each followed by a gap
        self._tail_lines: list[Strip] = []
        self._lines: list[Strip] = []  # what render_line shows
        self._reserved = 0  # rows the widget claims while streaming (>= its lines)
        self._code_cache: dict[tuple[str, str], list[Strip]] = {}  # open fence's lines
        self._kept: tuple[str, list[Strip]] = ("", [])  # the last source `_kept_block` drew
        self._paragraph = GrowingParagraph()  # the paragraph being written, as last drawn
        self._item = GrowingParagraph()  # a list's last item's paragraph, as last drawn
        self._item_look: tuple[object, ...] = ()  # and its gutter and style
        self._holding = live  # a table's unfinished row waits for its line's end
        self._waiting = ""  # said in the first row until the first text (see show_waiting)
        self._base = Style()  # the widget's own style, taken once per width or theme
        self._options: ConsoleOptions  # and the console's at our width (`_take_style`)
        self._plain = False  # nothing for Textual's styles cache to add (`_take_style`)
        self._background = Color(0, 0, 0, 0)  # the colour behind us, for the line filters
        #: Rows as the screen gets them (line filters applied), by row: the line of
        #: `_lines` each was made from (None for a blank row), and the row.
        self._rows: dict[int, tuple[Strip | None, Strip]] = {}
        self._rows_filters: tuple[object, ...] = ()
        self._offset_styles: dict[tuple[Style | None, int, int], Style] = {}  # _with_offsets
        #: The lines the last `append` asked Textual to repaint (for tests and benchmarks).
        self.lines_repainted: tuple[int, ...] = ()
        if source:
            self._take(source)

    @property
    def source(self) -> str:
        return "".join(self._done) + self._tail

    @property
    def live(self) -> bool:
        return self._live

    @property
    def waiting(self) -> str:
        return self._waiting

    def show_waiting(self, line: str, *, redraw: bool = True) -> None:
        """Say `line` in the first row until text comes ("" to stop). The first words
        then take its place: one row repainted, no widget leaving the log and no layout
        between the server's first token and the screen."""
        line = clean(line)
        if line == self._waiting:
            return
        self._waiting = line
        if redraw and not line and not self.source and self._reserved:
            # The wait is over with nothing to show (the model thinks first): no room
            # is kept below the thinking for words that have not begun.
            self._reserved = 0
            self._join_lines()
            self.refresh(layout=True)
        elif redraw and self._width and not self.source:
            self._redraw(len(self._done))

    def append(self, text: str) -> None:
        """Add cleaned text; repaint the lines it changed, or lay out again if it grew."""
        done = len(self._done)
        self._take(text)
        if self._width:  # else not laid out yet: the first layout renders it all
            self._redraw(done)

    def _redraw(self, done: int) -> None:
        """Render what changed since `done` blocks were finished, and refresh it."""
        before, stable = self._lines, len(self._done_lines)  # lines above stay as they are
        for block in self._done[done:]:  # often just drawn whole as the tail: kept
            self._done_lines = self._done_lines + self._kept_block(block) + [self._gap()]
        self._tail_lines = self._tail_strips()
        self._join_lines()
        if len(self._lines) > self._reserved:
            self._reserve_room()
            self.lines_repainted = tuple(range(len(self._lines)))
            self.refresh(layout=True)
            return
        changed = _changed_lines(before, self._lines, stable)
        self.lines_repainted = tuple(changed)
        if changed and not paint_rows(self, changed):
            width = self.size.width
            self.refresh(*(Region(0, y, width, 1) for y in changed))

    def finish(self) -> None:
        """The reply has ended: draw any row held back, and give back the room kept for
        more text after the frame that shows its last words. Giving it back moves the log
        (older text comes into view above), and behind a slow link that frame must not
        hold up the last words."""
        self._holding = False
        self._waiting = ""
        if self._width and _held_row(self._tail):
            self._redraw(len(self._done))
        if self.is_attached:
            self.call_after_refresh(self._give_back_room)
        else:
            self._give_back_room()

    def _give_back_room(self) -> None:
        self._live = False
        self._join_lines()
        self._reserved = 0
        self.refresh(layout=True)

    def _take(self, text: str) -> None:
        self._tail += text
        cut = settle_point(self._tail, 1)
        if cut:
            self._done.append(self._tail[:cut])
            self._tail = self._tail[cut:]

    # -- rendering ---------------------------------------------------------------

    def _block(self, source: str, markdown: _Markdown | None = None) -> list[Strip]:
        """One block as strips of exactly the width, without Rich's outer blank lines."""
        if not source.strip():
            return []
        if markdown is None:
            markdown = _Markdown(source, code_theme=CODE_THEME)
        if "```" in source or "~~~" in source:  # a fence: Rich makes its lexer
            with _LEXERS:
                rendered = self.app.console.render_lines(markdown, self._options)
        else:
            rendered = self.app.console.render_lines(markdown, self._options)
        lines = [Strip(line, self._width) for line in rendered]
        while lines and _is_blank(lines[0]):
            lines.pop(0)
        while lines and _is_blank(lines[-1]):
            lines.pop()
        base = self._base
        return [line.apply_style(base) for line in lines]

    def _kept_block(self, source: str) -> list[Strip]:
        """`_block`, drawn again only when `source` is not the one drawn last time
        (blank lines at its end draw nothing, so they do not count)."""
        key = source.rstrip("\n")
        if self._kept[0] != key or not key:
            self._kept = (key, self._block(source))
        return self._kept[1]

    def _tail_strips(self) -> list[Strip]:
        """The unfinished block: rendered whole, unless it is an open code fence, a
        paragraph (wrapped again only from its second-to-last line; plain prose is not
        even parsed), a tight list (only its last item drawn again) or a table whose
        last row is unfinished (drawn without it till it ends)."""
        tail = self._tail
        if not tail:
            return []
        if _PLAIN_PROSE.match(tail):
            return self._prose(tail)
        start = open_fence(tail)
        if start is not None:
            return self._open_code(tail, start)
        if (closed := _just_closed_fence(tail)) is not None:
            return self._open_code(*closed)  # drawn whole once, when it settles
        if self._holding and _held_row(tail):
            return self._kept_block(tail[: tail.rfind("\n") + 1])
        split = _last_item(tail)
        if split is not None:
            items, last = split
            return self._kept_block(items) + self._item_lines(last)
        key = tail.rstrip("\n")
        if key and self._kept[0] == key:
            return self._kept[1]  # drawn already (the line's end came, say)
        markdown = _Markdown(tail, code_theme=CODE_THEME)
        text = paragraph_text(markdown, self.app.console, self._options)
        strips = self._block(tail, markdown) if text is None else self._paragraph_lines(text)
        self._kept = (key, strips)  # kept for when the block settles: drawn the same
        return strips

    def _item_lines(self, source: str) -> list[Strip]:
        """A list's last item: its paragraph wrapped again only from its second-to-last
        line, as the paragraph being written is, beside its bullet or number; any other
        shape (a nested list, a soft break) rendered whole."""
        markdown = _Markdown(source, code_theme=CODE_THEME)
        console = self.app.console
        item = list_item_text(markdown, console, self._options)
        if item is None:
            self._item.forget()
            return self._block(source, markdown)
        look = item[1:]  # its kept lines carry their gutter: drawn afresh if it changes
        if look != self._item_look:
            self._item.forget()
            self._item_look = look
        width, base, style = self._width, self._base, item.style
        first, rest = item.first, item.rest
        options = self._options.update(width=max(1, width - first.cell_length))

        def make(segments: list[Segment], first_line: bool) -> Strip:
            row = [first if first_line else rest, *Segment.apply_style(segments, style)]
            return Strip(row, width).apply_style(base)

        return self._item.lines(item.text, console, options, make)

    def _open_code(self, tail: str, start: int) -> list[Strip]:
        """Text before an open fence, then the fence's code line by line."""
        before = self._kept_block(tail[:start])
        header, _, code = tail[start:].partition("\n")
        language = header.strip().lstrip("`~").strip().partition(" ")[0]
        lines, _, growing = code.rpartition("\n")
        strips = before + [self._gap()] if before else []
        padding = Strip.blank(self._width, _code_background())
        strips.append(padding)
        if lines or code.startswith("\n"):
            for line in lines.split("\n"):
                strips += self._code_line(line, language)
        if growing:
            strips += self._code_line(growing, language, keep=False)
        strips.append(padding)
        return strips

    def _prose(self, text: str) -> list[Strip]:
        """A paragraph with no Markdown in it, as Rich's Markdown draws one: wrapped, no
        parse. Most of a reply streams as prose; parsing it per frame cost ~0.3 ms."""
        return self._paragraph_lines(Text(text.strip(), justify="left"))

    def _paragraph_lines(self, text: Text) -> list[Strip]:
        """The paragraph being written, wrapped again only from its second-to-last line
        (growing_paragraph.py)."""
        width, base = self._width, self._base
        return self._paragraph.lines(
            text,
            self.app.console,
            self._options,
            lambda line, _first: Strip(line, width).apply_style(base),
        )

    def _code_line(self, line: str, language: str, keep: bool = True) -> list[Strip]:
        """One line of code as Rich's code block draws it: highlighted, padded by one."""
        key = (language, line)
        if (cached := self._code_cache.get(key)) is not None:
            return cached
        background = _code_background()
        with _LEXERS:
            text = _highlighter(language).highlight(line.expandtabs(8))
        text.rstrip()
        edge = Segment(" ", background)
        room = self._width - 2
        if text.cell_len <= room and _ONE_LINE.match(text.plain):
            # It fits: the cells Rich's wrap would make, without the wrap (a third of
            # the cost of a line, and a streaming fence's growing line is drawn per token).
            row = [edge, *Segment.apply_style(text.render(self.app.console, end=""), background)]
            row.append(Segment(" " * (room - text.cell_len + 1), background))
            strips = [Strip(row, self._width)]
        else:
            options = self._options.update(width=max(1, room))
            strips = [
                Strip([edge, *row, edge], self._width)
                for row in self.app.console.render_lines(text, options, style=background, pad=True)
            ]
        if keep:
            self._code_cache[key] = strips
        return strips

    def _take_style(self) -> None:
        """The widget's style and the console's options, once per width or theme, not
        per block: both are built afresh on every read. Any change of style, ours or an
        ancestor's, comes through `notify_style_update`, which takes them again."""
        self._base = self.rich_style
        self._options = self.app.console.options.update(
            width=self._width, height=None, highlight=False
        )
        styles = self.styles
        self._plain = (
            not styles.gutter
            and not any(edge for edge, _ in styles.outline)
            and not styles.tint.a
            and styles.text_opacity == 1
            and styles.hatch in (None, "none")
        )
        self._background = self.background_colors[1]
        self._rows.clear()

    def _gap(self) -> Strip:
        return Strip.blank(self._width, self._base)

    def _join_lines(self) -> None:
        """The lines shown: blocks one gap apart (a gap waits below a finished block
        while the reply streams, for the next one)."""
        lines = self._done_lines + self._tail_lines
        if not self._live and not self._tail_lines and lines:
            lines = lines[:-1]
        if not lines and self._waiting:
            lines = [self._waiting_row()]
        self._lines = lines

    def _waiting_row(self) -> Strip:
        style = self._base + self.get_component_rich_style("reply-body--waiting", partial=True)
        row = Strip([Segment(self._waiting, style)]).crop(0, self._width)
        return row.adjust_cell_length(self._width, self._base)

    def _render_all(self, width: int) -> None:
        self._width = width
        self._take_style()
        self._code_cache.clear()
        self._kept = ("", [])
        self._paragraph.forget()  # made at the old width, or in the old colours
        self._item.forget()
        self._done_lines = []
        for block in self._done:
            self._done_lines += self._block(block) + [self._gap()]
        self._tail_lines = self._tail_strips()
        self._join_lines()
        self._reserved = 0
        if self._live and self._lines:
            self._reserve_room()

    def _reserve_room(self) -> None:
        height = self.screen.size.height if self.is_attached else 24
        self._reserved = len(self._lines) + max(3, int(height * RUNWAY_SHARE))

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if width != self._width:
            self._render_all(width)
        if not self._live:
            return len(self._lines)
        return max(self._reserved, len(self._lines))

    def notify_style_update(self) -> None:
        super().notify_style_update()
        # Colours come from the theme: render again, at a layout (which also sizes the
        # widget for lines added meanwhile; a render alone left them below its bottom).
        self._width = 0
        self.refresh(layout=True)

    def render_lines(self, crop: Region) -> list[Strip]:
        """Rows with the app's line filters applied, kept until their line changes.

        Textual's styles cache renders every row of a widget again once its size has
        changed, as ours does at each runway jump: 75 µs a row, and the reply is most of
        the screen. With no border, padding, outline, tint or opacity there is nothing
        for it to add but the filters, so rows come from here, and a line that has not
        changed costs a lookup. Anything else (a selection too) goes through Textual."""
        width = self.size.width
        if width != self._width:
            self._render_all(width)
        if not self._plain or self.text_selection is not None or self.opacity != 1:
            return super().render_lines(crop)
        filters = tuple(self.app.get_line_filters())
        rows, background = self._rows, self._background
        if filters != self._rows_filters:
            rows.clear()
            self._rows_filters = filters
        lines, count = self._lines, len(self._lines)
        strips = []
        for y in crop.line_range:
            line = lines[y] if y < count else None
            kept = rows.get(y)
            if kept is not None and (
                kept[0] is line or (line is not None and kept[0] is not None and kept[0] == line)
            ):
                strip = kept[1]  # a settled block is often drawn anew, the same
            else:
                # Filtered before the offsets go in: a filter keeps what it made of each
                # style (Textual's caches hold 1,024), and with its offset every cell
                # is a style of its own, so filtered after, a changed row missed them all.
                strip = line if line is not None else Strip.blank(width, self._base)
                for line_filter in filters:
                    strip = strip.apply_filter(line_filter, background)
                if line is not None:
                    strip = self._with_offsets(strip, y)
                rows[y] = (line, strip)
            strips.append(strip)
        left, right = crop.column_span
        if (left, right) != (0, width):
            strips = [strip.crop(left, right) for strip in strips]
        return strips

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if width != self._width:
            self._render_all(width)
        return self._row(y, width, self.text_selection)

    def _row(self, y: int, width: int, selection: Selection | None) -> Strip:
        """Line `y` as the screen takes it: selected, and each cell knowing its offset in
        the text (for selecting with the mouse)."""
        if y >= len(self._lines):
            return Strip.blank(width, self._base)
        strip = self._lines[y]
        if selection is not None:
            strip = self._selected(strip, y, selection)
        return self._with_offsets(strip, y)

    def _with_offsets(self, strip: Strip, y: int) -> Strip:
        """`Strip.apply_offsets`, with each (style, offset) made once: a line being
        written is a new strip on each token, though most of its cells are not new, and
        a style made afresh is a new style to the screen differ too."""
        styles = self._offset_styles
        if len(styles) > OFFSET_STYLES_KEPT:
            styles.clear()
        x = 0
        segments = []
        for text, style, control in strip:
            key = (style, x, y)
            offset_style = styles.get(key)
            if offset_style is None:
                meta = Style.from_meta({"offset": (x, y)})
                offset_style = styles[key] = style + meta if style else meta
            segments.append(Segment(text, offset_style, control))
            x += len(text)
        return Strip(segments, strip.cell_length)

    # -- selection ---------------------------------------------------------------

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        text = "\n".join(strip.text.rstrip() for strip in self._lines)
        return selection.extract(text), "\n"

    def selection_updated(self, selection: Selection | None) -> None:
        self.refresh()

    def _selected(self, strip: Strip, y: int, selection: Selection) -> Strip:
        span = selection.get_span(y)
        if span is None:
            return strip
        start, end = span
        length = strip.cell_length
        end = length if end == -1 else min(end, length)
        if end <= start:
            return strip
        style = self.screen.get_component_rich_style("screen--selection")
        before, middle, after = strip.divide([start, end, length])
        middle = Strip(Segment.apply_style(list(middle), post_style=style), middle.cell_length)
        return Strip.join([before, middle, after])


def _is_blank(strip: Strip) -> bool:
    """Rich's blank separator lines: only spaces, no background (a code block's has one)."""
    return all(not segment.text.strip() and not _has_background(segment.style) for segment in strip)


def _has_background(style: Style | None) -> bool:
    return style is not None and style.bgcolor is not None and not style.bgcolor.is_default


def _changed_lines(before: list[Strip], after: list[Strip], start: int = 0) -> list[int]:
    """The rows from `start` whose strips differ (rows that appeared or went away too)."""
    changed = []
    for y in range(start, max(len(before), len(after))):
        if y >= len(before) or y >= len(after) or before[y] != after[y]:
            changed.append(y)
    return changed


def _just_closed_fence(tail: str) -> tuple[str, int] | None:
    """A code fence closed by the tail's last line: the tail without that line, and
    where the fence opens; None if the tail does not end so."""
    head, _, last = tail.rstrip("\n").rpartition("\n")
    if not FENCE.match(last):
        return None
    start = open_fence(head + "\n")
    if start is None or open_fence(tail) is not None:
        return None
    return head + "\n", start


def _held_row(tail: str) -> bool:
    """The tail ends in an unfinished row of a table: a line starting with "|" under
    another (a lone first line, such as "|x| is ...", may be prose and streams as it)."""
    head, _, last = tail.rpartition("\n")
    above = head[head.rfind("\n") + 1 :]
    return all(
        line.lstrip(" ")[:1] == "|" and len(line) - len(line.lstrip(" ")) < 4
        for line in (last, above)
    )


#: A top-level list item's first line: its marker (a bullet, or a number and its
#: delimiter) and the space after it.
_ITEM = re.compile(r"(?:([-*+])|(\d{1,9})([.)])) ")
#: A line that is (or may yet become) a thematic break, such as "- - -" or "* *".
_RULE = re.compile(r"[-*_ ]*\Z")


def _last_item(tail: str) -> tuple[str, str] | None:
    """A tight list at the end of the tail, cut before its last item: the source up to
    it, and the last item alone (renumbered to render as itself), or None.

    Rich draws a list's items one after another, each on its own, so the finished items
    can be kept and the growing one drawn alone. Only the plain shape is taken: items at
    the margin, one marker throughout, no blank line, every other line of the list
    indented (a nested list or a continuation); anything else is rendered whole.
    """
    lines = tail.split("\n")
    if lines[-1] == "":
        lines.pop()
    items = []
    for index in range(len(lines) - 1, -1, -1):
        line = lines[index]
        if line[:1] == " " and line.strip():
            continue
        match = _ITEM.match(line)
        if match is None:
            break
        items.append((index, match))
    if len(items) < 2 and not (items and items[0][0] == 0):
        return None  # one item under a line of text: drawn apart, the gap between is lost
    items.reverse()
    first, kind = items[0][0], items[0][1].group(1, 3)
    if any(match.group(1, 3) != kind for _, match in items):
        return None
    if first > 0 and not lines[first - 1].strip():
        return None  # a blank line above: a cut would have been made there
    last, match = items[-1]
    if _RULE.match(lines[last]):
        return None  # "- - -" is a rule, not an item: it ends the list
    cut = sum(len(line) + 1 for line in lines[:last])
    if kind[0] is not None:
        return tail[:cut], tail[cut:]
    start = int(items[0][1].group(2))
    if first > 0 and start != 1:
        return None  # only a list from 1 can follow a paragraph line: else it is text
    number = start + len(items) - 1
    if len(str(number)) != len(str(number + 1)):
        return None  # the items before are numbered one digit narrower without it
    return tail[:cut], f"{number}{match.group(3)} {tail[cut + match.end() :]}"


#: A line of code with nothing in it that Rich's wrap would move or break on.
_ONE_LINE = re.compile(r"[^\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]*\Z")

_PARSER = MarkdownIt().enable("strikethrough").enable("table")
#: A paragraph Markdown would draw as its plain text: starts with a letter (not a list,
#: heading, quote or indented code), one line, and none of Markdown's inline marks.
_PLAIN_PROSE = re.compile(r"[A-Za-z][A-Za-z0-9 ,.;:'\"?!()/%+=$-]*\Z")


class _Markdown(RichMarkdown):
    """Rich's Markdown with one shared parser: building a MarkdownIt costs ~0.7 ms, more
    than rendering a paragraph. These are the fields Rich's own __init__ sets."""

    def __init__(self, markup: str, code_theme: str) -> None:
        self.markup = markup
        self.parsed = _PARSER.parse(markup)
        self.code_theme = code_theme
        self.justify = None
        self.style = "none"
        self.hyperlinks = True
        self.inline_code_lexer = None
        self.inline_code_theme = code_theme


#: Fence languages whose highlighters are made once the app has started, ahead of any
#: reply: a lexer compiles its patterns the first time it is used, and Python's took
#: 60 ms on the event loop, a stall at the first Python block of a session.
WARM_LANGUAGES = ("python", "bash", "javascript", "json")


#: Held while `warm_highlighters` runs on its thread: Pygments compiles a lexer class's
#: patterns into attributes of the class, and two threads doing that at once can mix
#: them up, so code drawn meanwhile waits for it (at most the compile, as before).
_LEXERS = threading.Lock()


def warm_highlighters() -> None:
    """Make the common fences' highlighters now (on a thread, while the app is idle)."""
    with _LEXERS:
        _code_background()
        for language in WARM_LANGUAGES:
            _highlighter(language).highlight("x = 1")


@cache
def _highlighter(language: str) -> Syntax:
    """A Syntax for the fence's language, kept: looking a lexer up by name is slow."""
    lexer: Lexer | str
    try:
        lexer = get_lexer_by_name(language or "text")
    except ClassNotFound:
        lexer = "text"
    return Syntax("", lexer, theme=CODE_THEME, word_wrap=True)


@cache
def _code_background() -> Style:
    return Syntax.get_theme(CODE_THEME).get_background_style()
