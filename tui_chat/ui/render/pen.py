"""Pens: the terminal's SGR state as a value, and the shortest switch between two.

Textual writes every run as `ESC[<all attributes>m text ESC[0m`. A terminal keeps its
pen between writes, so a run that looks like the one before needs no codes at all, and
one that differs in a colour needs only that colour (codex-rs `ModifierDiff`).
"""

from __future__ import annotations

from typing import NamedTuple

from rich.color import ColorSystem
from rich.style import Style

# Rich's attribute bits, in order: bold dim italic underline blink blink2 reverse
# conceal strike underline2 frame encircle overline.
ON_CODES = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "21", "51", "52", "53")
OFF_CODES = ("22", "22", "23", "24", "25", "25", "27", "28", "29", "24", "54", "54", "55")
# Attributes a blank cell shows (a cleared cell has none of them, so these block EL).
SHOWS_ON_BLANK = (1 << 3) | (1 << 6) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12)


class Pen(NamedTuple):
    """What an SGR (and OSC 8) state looks like: attribute bits, colour codes, link."""

    attrs: int
    fg: str  # SGR parameters, "" for the default colour
    bg: str
    link: str  # OSC 8 target, "" for none


BLANK_PEN = Pen(0, "", "", "")


def pen_of(style: Style | None, color_system: ColorSystem) -> Pen:
    """The visible part of `style` (meta such as Textual's click offsets is ignored)."""
    if style is None:
        return BLANK_PEN
    attrs = style._attributes & style._set_attributes
    fg = bg = ""
    if (color := style._color) is not None:
        fg = ";".join(color.downgrade(color_system).get_ansi_codes())
        if fg == "39":
            fg = ""
    if (bgcolor := style._bgcolor) is not None:
        bg = ";".join(bgcolor.downgrade(color_system).get_ansi_codes(False))
        if bg == "49":
            bg = ""
    return Pen(attrs, fg, bg, style._link or "")


def _full(pen: Pen) -> list[str]:
    codes = ["0"]
    codes += [ON_CODES[bit] for bit in range(pen.attrs.bit_length()) if pen.attrs >> bit & 1]
    if pen.fg:
        codes.append(pen.fg)
    if pen.bg:
        codes.append(pen.bg)
    return codes


def switch(old: Pen | None, new: Pen) -> str:
    """The shortest escape codes that turn pen `old` (None: unknown) into `new`."""
    if old == new:
        return ""
    out = ""
    if old is None or old.link != new.link:
        out = f"\x1b]8;;{new.link}\x1b\\" if new.link or old is not None else ""
    if old is not None and (old.attrs, old.fg, old.bg) == (new.attrs, new.fg, new.bg):
        return out
    full = _full(new)
    if old is not None:
        off_bits = old.attrs & ~new.attrs
        offs = {OFF_CODES[b] for b in range(off_bits.bit_length()) if off_bits >> b & 1}
        on_bits = new.attrs & ~old.attrs
        # An off code can clear two attributes (22: bold and dim); put back the one kept.
        for bit in range(new.attrs.bit_length()):
            if new.attrs >> bit & 1 and OFF_CODES[bit] in offs:
                on_bits |= 1 << bit
        codes = sorted(offs)
        codes += [ON_CODES[b] for b in range(on_bits.bit_length()) if on_bits >> b & 1]
        if old.fg != new.fg:
            codes.append(new.fg or "39")
        if old.bg != new.bg:
            codes.append(new.bg or "49")
        if len(";".join(codes)) < len(";".join(full)):
            full = codes
    return out + f"\x1b[{';'.join(full)}m"
