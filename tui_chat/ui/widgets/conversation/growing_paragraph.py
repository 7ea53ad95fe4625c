"""A paragraph that grows at its end, wrapped again only from its second-to-last line.

Most of a reply streams as the paragraph being written, and rendering it whole on each
frame (Rich's Markdown: parse, build the text, wrap every line) cost 0.4-0.7 ms at chat
speeds, growing with the paragraph. Rich wraps greedily: where a line breaks depends
only on the words from that line's start up to the first word of the next. So while the
text before the last line's start is unchanged (characters and styles: Markdown marks
that close can restyle words, and a closing mark can shrink a word), every line above
the second-to-last is the same as before, and the rest is the greedy wrap of the text
from that line's start on. The text itself still comes from Rich's own Markdown, so the
paragraph looks exactly as the settled block will. A list's item being written grows the
same way: `list_item_text` gives its paragraph's text, and the bullet or number beside
it, as Rich's own list item would draw them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, NamedTuple

from markdown_it.token import Token
from rich._wrap import divide_line
from rich.console import Console, ConsoleOptions, RenderResult
from rich.markdown import ListItem, Markdown, MarkdownElement, Paragraph
from rich.segment import Segment
from rich.style import Style
from rich.text import Span, Text
from textual.strip import Strip

#: The token shapes of a source that is one paragraph and nothing else.
_ONE_PARAGRAPH = ["paragraph_open", "inline", "paragraph_close"]
#: And of one that is a list of one item, itself one paragraph.
_ONE_ITEM = [
    [
        f"{kind}_list_open",
        "list_item_open",
        *_ONE_PARAGRAPH,
        "list_item_close",
        f"{kind}_list_close",
    ]
    for kind in ("bullet", "ordered")
]


class _Kept(Paragraph):
    """A paragraph that keeps its text on the Markdown that made it, drawing nothing."""

    @classmethod
    def create(cls, markdown: Markdown, token: Token) -> Paragraph:
        element = super().create(markdown, token)
        markdown.kept_paragraph = element  # type: ignore[attr-defined]
        return element

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        self.text.justify = self.justify
        return iter(())


class _KeptItem(ListItem):
    """A list item that keeps its style and its gutter (the bullet or number, then the
    blank beside its other lines) on the Markdown that made it, drawing nothing."""

    gutters: tuple[Segment, Segment] | None = None

    @classmethod
    def create(cls, markdown: Markdown, token: Token) -> ListItem:
        element = super().create(markdown, token)
        markdown.kept_item = element  # type: ignore[attr-defined]
        return element

    def render_bullet(self, console: Console, options: ConsoleOptions) -> RenderResult:
        style = console.get_style("markdown.item.bullet", default="none")
        self.gutters = Segment(" • ", style), Segment(" " * 3, style)
        return iter(())

    def render_number(
        self, console: Console, options: ConsoleOptions, number: int, last_number: int
    ) -> RenderResult:
        width = len(str(last_number)) + 2
        style = console.get_style("markdown.item.number", default="none")
        self.gutters = (
            Segment(f"{number}".rjust(width - 1) + " ", style),
            Segment(" " * width, style),
        )
        return iter(())


def _keep(markdown: Markdown, console: Console, options: ConsoleOptions) -> None:
    """Run Rich's Markdown over `markdown` with its paragraphs and list items kept, not
    drawn: what they would draw is then on `markdown`."""
    elements: dict[str, type[MarkdownElement]] = {
        **markdown.elements,
        "paragraph_open": _Kept,
        "list_item_open": _KeptItem,
    }
    markdown.elements = elements  # type: ignore[misc]
    try:
        for _ in markdown.__rich_console__(console, options):
            pass
    finally:
        del markdown.elements  # type: ignore[misc]


def paragraph_text(markdown: Markdown, console: Console, options: ConsoleOptions) -> Text | None:
    """The text (styles and all) Rich's Markdown draws for `markdown`, if its source is
    one paragraph on one line of text (no hard break); else None."""
    if [token.type for token in markdown.parsed] != _ONE_PARAGRAPH:
        return None
    _keep(markdown, console, options)
    kept: Any = getattr(markdown, "kept_paragraph", None)
    if kept is None or "\n" in kept.text.plain:
        return None
    return kept.text


class ItemText(NamedTuple):
    """A list item as Rich draws it: its paragraph's text, beside its first line the
    bullet or number and beside the others a blank as wide, with the item's style under
    the text's own."""

    text: Text
    first: Segment
    rest: Segment
    style: Style


def list_item_text(
    markdown: Markdown, console: Console, options: ConsoleOptions
) -> ItemText | None:
    """`markdown` as one list item, if its source is a list of one item that is one
    paragraph on one line of text; else None."""
    if [token.type for token in markdown.parsed] not in _ONE_ITEM:
        return None
    _keep(markdown, console, options)
    item: Any = getattr(markdown, "kept_item", None)
    kept: Any = getattr(markdown, "kept_paragraph", None)
    if item is None or item.gutters is None or kept is None or "\n" in kept.text.plain:
        return None
    kept.text.justify = kept.justify  # as the paragraph sets it when drawn
    return ItemText(kept.text, *item.gutters, item.style)


class GrowingParagraph:
    """The lines of the paragraph drawn last, and where each starts in its text."""

    __slots__ = ("_text", "_starts", "_lines", "_width")

    wraps_from: ClassVar[int] = 2  # lines from the end that are wrapped again

    def __init__(self) -> None:
        self._text = Text()
        self._starts: list[int] = []
        self._lines: list[Strip] = []
        self._width = 0

    def forget(self) -> None:
        self._text, self._starts, self._lines, self._width = Text(), [], [], 0

    def lines(
        self,
        text: Text,
        console: Console,
        options: ConsoleOptions,
        make: Callable[[list[Segment], bool], Strip],
    ) -> list[Strip]:
        """`console.render_lines(text, options, pad=True)`, each line made a strip by
        `make` (told whether it is the paragraph's first line), rendering (and making)
        again only the lines that can have changed since the text drawn last: the lines
        above are the same objects as before."""
        width = options.max_width
        keep = self._kept_lines(text, width)
        start = self._starts[keep] if keep else 0
        rest = text[start:] if start else text
        plain = rest.plain
        overflow = text.overflow or "fold"
        breaks = divide_line(plain, width, fold=overflow == "fold")
        if any(not plain[offset - 1].isspace() for offset in breaks) or "\t" in plain:
            # A word folded across lines (or a tab): rendered whole, as Rich does, and
            # no line starts are kept for next time.
            self.forget()
            lines = console.render_lines(text, options, pad=True)
            return [make(line, index == 0) for index, line in enumerate(lines)]
        # Text.wrap and Text.__rich_console__ for these lines, without joining them into
        # one text to render and splitting that again (most of Rich's cost per frame).
        rendered = []
        for index, line in enumerate(rest.divide(breaks)):
            line.rstrip_end(width)
            line.truncate(width, overflow=overflow, pad=True)
            rendered.append(make(list(line.render(console, end="")), not start and not index))
        self._lines = self._lines[:keep] + rendered
        self._starts = self._starts[:keep] + [start] + [start + offset for offset in breaks]
        self._text, self._width = text, width
        return self._lines

    def _kept_lines(self, text: Text, width: int) -> int:
        """How many lines of the last drawing still stand for `text`."""
        keep = len(self._starts) - self.wraps_from
        if keep <= 0 or width != self._width:
            return 0
        last = self._starts[-1]  # the text before the last line's start must not change
        old = self._text
        if text.plain[:last] != old.plain[:last]:
            return 0
        if text.style != old.style or _spans_before(text, last) != _spans_before(old, last):
            return 0
        return keep


def _spans_before(text: Text, offset: int) -> list[Span]:
    return [
        Span(span.start, min(span.end, offset), span.style)
        for span in text.spans
        if span.start < offset
    ]
