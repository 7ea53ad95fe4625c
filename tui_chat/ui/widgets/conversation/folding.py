"""Keep the messages far above the view out of the layout, so a long chat lays out flat.

Textual lays out every widget of the log each time the log's layout changes: at each
jump of a streaming reply's runway, at each mount and at each reply's end. That is
O(widgets) a time, ~0.1 ms a turn, 6 ms and GC pauses on top at 80 turns. Here the
widgets wholly more than a few screens above the view are hidden (`display: none`,
which takes them out of Textual's arrange and compositor), and one blank widget as
tall as they were stands in for them, so everything below stays where it was, row for
row, and the scrollbar still tells the truth. As the view comes towards them they come
back, a screen or more before they would show: the reader scrolling up, the log growing
taller, or turns below leaving; a new width (which re-wraps them) brings them all back,
and the next turn folds again.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.await_remove import AwaitRemove
from textual.geometry import Size
from textual.widget import Widget

#: Widgets whose bottom is more than this many screens above the view are folded.
FOLD_BEYOND = 3
#: Scrolling to within this many screens of the fold brings widgets back, until this
#: many and one more are shown above the view.
UNFOLD_WITHIN = 2


class FoldedAbove(Widget):
    """Stands in for the folded widgets: as tall as they were, and blank."""

    DEFAULT_CSS = "FoldedAbove { height: 0; }"

    def render(self) -> str:
        return ""


class FoldsFarAbove(Widget):
    """Mixed into a scrolling log whose children are laid out top to bottom."""

    _spacer: FoldedAbove | None = None
    #: Folded widgets, top first, each with the spacer's height while it is the last
    #: folded (the row its margin box began on).
    _folded: tuple[tuple[Widget, int], ...] = ()
    _fold_rows = 0  # the spacer's height
    _fold_width = 0  # the log's width when they were folded

    @property
    def folded(self) -> tuple[Widget, ...]:
        return tuple(widget for widget, _ in self._folded if widget.parent is self)

    def _fold_state(self) -> FoldedAbove | None:
        """The spacer if it is still ours; a log cleared of its children folds nothing."""
        if self._spacer is not None and self._spacer.parent is not self:
            self._spacer, self._folded, self._fold_rows = None, (), 0
        return self._spacer

    async def fold_far_above(self) -> None:
        """Fold what lies wholly far above the bottom of the log (call when following
        it: at a turn's start, the only time the log moves by a turn)."""
        height = self.size.height
        if not height:
            return
        spacer = self._fold_state()
        limit = self.virtual_size.height - height * (FOLD_BEYOND + 1)
        folded = {widget for widget, _ in self._folded}
        run: list[tuple[Widget, int]] = []
        for child in self.children:
            if child is spacer or child in folded or not child.display:
                continue
            region = child.virtual_region
            if not region or region.bottom + child.styles.margin.bottom >= limit:
                break
            if child.has_focus_within:
                break
            run.append((child, region.y - child.styles.margin.top))
        if not run:
            return
        if spacer is None:
            spacer = self._spacer = FoldedAbove()
            await self.mount(spacer, before=0)
        # The spacer takes the place of all folded widgets: the first one shown after it
        # keeps its row (the spacer has no margin for its top margin to collapse into).
        first_shown = next(
            (c for c in self.children[self.children.index(run[-1][0]) + 1 :] if c.display), None
        )
        if first_shown is None:
            return
        self._folded = (*self._folded, *run)
        self._fold_width = self.size.width
        with self.app.batch_update():
            for widget, _ in run:
                widget.display = False
            self._fold_rows = first_shown.virtual_region.y - first_shown.styles.margin.top
            spacer.styles.height = self._fold_rows

    def unfold_above(self, row: float) -> None:
        """Bring folded widgets back, the nearest first, until the fold ends above `row`
        of the log's content (or none is left)."""
        spacer = self._fold_state()
        if spacer is None or not self._folded:
            return
        folded, top = list(self._folded), self._fold_rows
        with self.app.batch_update():
            while folded and top > row:
                widget, top = folded.pop()
                widget.display = True
            self._fold_rows = top if folded else 0
            spacer.styles.height = self._fold_rows
        self._folded = tuple(folded)

    def reveal(self, widget: Widget) -> bool:
        """Unfold `widget` and what is below it, and a few screens above; True if it had
        been folded (it has a place on screen only after the next layout)."""
        for folded, top in self._folded:
            if folded is widget:
                self.unfold_above(top - UNFOLD_WITHIN * self.size.height)
                return True
        return False

    def _keep_clear_of(self, top: float) -> None:
        """The view's top row is `top`: unfold if the fold comes within reach of it."""
        height = self.size.height
        if self._folded and top < self._fold_rows + UNFOLD_WITHIN * height:
            self.unfold_above(top - (UNFOLD_WITHIN + 1) * height)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._keep_clear_of(new_value)

    def _size_updated(
        self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True
    ) -> bool:
        # At each layout: the log may be taller now, or shorter for turns removed below,
        # and a log that follows its end is scrolled there without `watch_scroll_y`.
        changed = super()._size_updated(size, virtual_size, container_size, layout)
        if self._folded:
            if self.size.width != self._fold_width:
                self.unfold_above(float("-inf"))  # their heights change with the width
            else:
                bottom = max(0, virtual_size.height - self.size.height)
                self._keep_clear_of(min(self.scroll_y, bottom))
        return changed

    def remove_children(self, selector: str | type[Widget] | Iterable[Widget] = "*") -> AwaitRemove:
        """As Textual's; a folded widget that goes first comes back (the fold's height
        counts it), and a log emptied holds on to none."""
        if selector == "*":
            self._spacer, self._folded, self._fold_rows = None, (), 0
        elif not isinstance(selector, str | type):
            selector = list(selector)
            if {widget for widget, _ in self._folded} & set(selector):
                self.unfold_above(float("-inf"))
        return super().remove_children(selector)  # type: ignore[arg-type]
