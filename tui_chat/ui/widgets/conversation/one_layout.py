"""Lay the screen out once, not twice, when a streaming reply grows.

When a layout gives a widget a new size, Textual sets its `virtual_size` reactive,
which asks for a layout again: a second whole-screen arrange and paint (~5 ms at 80x24)
that changes nothing, since the first already placed everything at that size (and
scrolled an anchored log to its end). A reply grows the log a few dozen times, so the
widgets that grow with it take the size without asking again, as Textual itself does
for widgets a scroll exposes.
"""

from __future__ import annotations

from textual.geometry import Size
from textual.widget import Widget


class OneLayout(Widget):
    """Mixed in after a Textual widget class (Textual takes default CSS from the first
    base only): its size updates ask for no second layout."""

    def _size_updated(
        self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True
    ) -> bool:
        return super()._size_updated(size, virtual_size, container_size, layout=False)
