"""Paint a widget's changed lines straight into the differ, past the compositor.

A streamed token changes a line or two of one reply. Through Textual that is a dirty
region, a screen update on the next tick, a partial compositor render (find the
widgets under the region, cut chops, build an update) and then the differ: about 1 ms
of the 2-3 ms a token cost at 20 tok/s. The reply knows which lines changed, and the
differ already holds the screen, so when nothing else is pending and nothing covers the
reply, its lines are rendered (through the widget's own styles cache, so filters and
selection apply as usual) and put into the differ at once. Anything else, or any doubt,
falls back to `refresh`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from weakref import WeakKeyDictionary

from textual.geometry import Region
from textual.widget import Widget


def paint_rows(widget: Widget, rows: Sequence[int]) -> bool:
    """Draw content rows `rows` of `widget` now; False if it must be `refresh`ed instead."""
    layer: Any = getattr(widget.app, "_render_layer", None)
    return layer is not None and layer.paint(widget, rows)


def can_paint(widget: Widget) -> tuple[Region, Region] | None:
    """Where `widget` is on screen (its region and the visible part of it), if its rows
    can go straight to the terminal: the screen on top, laid out and scrolled as shown
    (no layout or scroll pending on it or any ancestor), and no widget in front of it."""
    screen = widget.screen
    app = widget.app
    if screen is not app.screen or app._batch_count or widget.styles.gutter:
        return None
    if screen.message_queue_size:
        return None  # a scroll or layout may be on its way to the screen (asked, not done)
    node: Any = widget
    while node is not None and node is not app:
        if node._layout_required or node._scroll_required:
            return None
        node = node._parent
    widgets = screen._compositor.visible_widgets
    known = _placed.get(widget)
    if known is not None and known[0] is widgets:
        return known[1]  # the screen is laid out as it was when last asked
    placed = _place(widget, widgets)
    _placed[widget] = (widgets, placed)
    return placed


#: Per widget, the compositor's map of what is on screen when it was last placed, and
#: where that put it: the map is made anew whenever anything moves, so while it is the
#: same object the answer is too, and a streaming reply asks once a frame.
_placed: WeakKeyDictionary[Widget, tuple[object, tuple[Region, Region] | None]] = (
    WeakKeyDictionary()
)


def _place(
    widget: Widget, widgets: Mapping[Widget, tuple[Region, Region]]
) -> tuple[Region, Region] | None:
    placed = widgets.get(widget)
    if placed is None:
        return None
    region, clip = placed
    visible = region.intersection(clip)
    for other, (other_region, other_clip) in widgets.items():
        if other is widget:
            return region, visible
        if other_region.intersection(other_clip).overlaps(visible):
            return None  # in front of it (a toast, a dialog): the compositor must blend
    return None
