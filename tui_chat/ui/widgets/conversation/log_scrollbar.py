"""The log's scrollbar, drawn from the few looks its rows take.

Textual draws a scrollbar as a Rich renderable through the widget's styles cache, about
50 µs a row, and the log's thumb moves at every runway jump of a streaming reply: 1.3-1.7
ms a jump at 80x24, a sixth of the jump. Yet its rows take at most five looks (the track
above the thumb, the thumb, the track below, and the thumb's two partial ends), and
each look comes out of the styles cache the same wherever it stands. So the bar's
geometry is still Textual's (`ScrollBarRender`), and a row whose look Textual has drawn
before is that row again; a look not seen yet (a new end glyph, a new theme) is learnt
from one whole render through Textual.
"""

from __future__ import annotations

from rich.segment import Segment, Segments
from textual.geometry import Region
from textual.scrollbar import ScrollBar, ScrollBarRender
from textual.strip import Strip


class LogScrollBar(ScrollBar):
    """A vertical `ScrollBar` whose rows are kept by look (see the module)."""

    def __init__(self, vertical: bool = True, name: str | None = None, *, thickness: int = 1):
        super().__init__(vertical, name, thickness=thickness)
        self._looks: dict[Segment, Strip] = {}  # a row's segment -> the row as drawn
        self._looks_for: tuple[object, ...] = ()  # what the looks were drawn with
        #: Whole renders through Textual (for tests: a moved thumb should need none).
        self.renders_through_textual = 0

    def _rows(self) -> list[Segment] | None:
        """Each row's one segment, as Textual's renderable lays the bar out; None for
        any shape this does not know (then Textual draws it)."""
        width, height = self.size
        renderable = self.render()
        if not self.vertical or not isinstance(renderable, ScrollBarRender) or not height:
            return None
        console = self.app.console
        options = console.options.update_dimensions(width, height)
        (bar,) = renderable.__rich_console__(console, options)
        if not isinstance(bar, Segments) or not bar.new_lines or len(bar.segments) != height:
            return None
        return bar.segments

    def _drawn_with(self) -> tuple[object, ...] | None:
        """Everything besides a row's segment that its drawn look depends on; None when
        the styles cache would add anything that varies by row (borders, padding,
        outline, hatch) or by cell (tint, opacity)."""
        styles = self.styles
        if (
            styles.gutter
            or any(edge for edge, _ in styles.outline)
            or styles.hatch not in (None, "none")
            or styles.tint.a
            or styles.text_opacity != 1
            or self.opacity != 1
        ):
            return None
        filters = tuple(self.app.get_line_filters())
        return (self.size.width, self.rich_style, self.background_colors, filters)

    def render_lines(self, crop: Region) -> list[Strip]:
        context = self._drawn_with()
        rows = self._rows() if context is not None else None
        if rows is None:
            return super().render_lines(crop)
        if context != self._looks_for:
            self._looks.clear()
            self._looks_for = context
        looks = self._looks
        wanted = rows[crop.y : crop.bottom]
        if any(segment not in looks for segment in wanted):
            width, height = self.size
            self.renders_through_textual += 1
            self._styles_cache.clear()
            drawn = super().render_lines(Region(0, 0, width, height))
            for segment, strip in zip(rows, drawn, strict=True):
                looks[segment] = strip
        strips = [looks[segment] for segment in wanted]
        left, right = crop.column_span
        if (left, right) != (0, self.size.width):
            strips = [strip.crop(left, right) for strip in strips]
        return strips
