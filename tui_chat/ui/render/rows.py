"""Make a partial screen update render only the rows it repaints.

For a partial update Textual's compositor asks every widget whose *clip* (usually its
container's region) touches the dirty area for its whole region, then throws away all
rows but the dirty ones. With a one-line change in the log that is every widget on the
screen, the footer and prompt included: 2-3 ms a frame, most of the CPU a streamed token
cost. Here each widget is asked only for its rows inside the dirty area, in the same
front-to-back order, so the chops (and the screen) come out the same; and once a widget
covers the whole dirty area (a streaming reply's line), the ones behind it are skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import MethodType

from textual._compositor import Compositor
from textual.geometry import Region
from textual.strip import Strip


def render_only_dirty_rows(compositor: Compositor) -> None:
    """Patch one compositor (each screen has its own); safe to call again."""
    if getattr(compositor, "_renders_rows_only", False):
        return
    compositor._renders_rows_only = True  # type: ignore[attr-defined]
    compositor._get_renders = MethodType(_rows_in_crop, compositor)  # type: ignore[method-assign]


def _rows_in_crop(
    self: Compositor, crop: Region | None = None
) -> Iterable[tuple[Region, Region, list[Strip]]]:
    _rich_traceback_guard = True  # Textual's marker: its tracebacks skip this frame
    if crop is None:
        crop = self.size.region
    top, bottom, left, right = crop.y, crop.bottom, crop.x, crop.right
    for widget, (region, clip) in self.visible_widgets.items():
        visible = region.intersection(clip)
        if not visible or visible.right <= left or visible.x >= right:
            continue
        first, last = max(visible.y, top), min(visible.bottom, bottom)
        if first >= last:
            continue
        rows = Region(visible.x, first, visible.width, last - first)
        inside = Region(rows.x - region.x, rows.y - region.y, rows.width, rows.height)
        yield rows, rows, widget.render_lines(inside)
        if visible.contains_region(crop):
            return  # every widget after this one is behind it: none of its cells show
