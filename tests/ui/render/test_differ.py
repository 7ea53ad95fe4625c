"""The differ's bytes, replayed into a VT emulator (pyte), show exactly the intended frame."""

from __future__ import annotations

import random
from collections.abc import Callable

import pyte
from rich.color import ColorSystem
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from textual._compositor import LayoutUpdate
from textual.geometry import Region
from textual.strip import Strip

from tui_chat.ui.render.differ import ScreenDiffer
from tui_chat.ui.render.pen import Pen, switch

CONSOLE = Console(color_system="truecolor", force_terminal=True, width=200)
BG = Style(color="#e0e0e0", bgcolor="#1e1e2e")
STYLES = [
    BG,
    Style(color="#89b4fa", bgcolor="#1e1e2e", bold=True),
    Style(color="#f38ba8", bgcolor="#313244", italic=True),
    Style(color="color(214)", bgcolor="#1e1e2e", underline=True),
    Style(color="red", bgcolor="color(236)", strike=True),
    Style(color="#a6e3a1", bgcolor="#1e1e2e", reverse=True),
    Style(color="#a6e3a1", bgcolor="#1e1e2e", bold=True, italic=True),
    Style(bgcolor="#45475a"),
]
WORDS = "the stream of tokens 漢字 and a 表 table code 😀 ok".split()

Frame = list[Strip]


def row(segments: list[Segment], width: int) -> Strip:
    return Strip(segments).adjust_cell_length(width, BG)


def text_frame(lines: list[str], width: int, height: int) -> Frame:
    padded = lines + [""] * (height - len(lines))
    return [row([Segment(line, BG)], width) for line in padded[:height]]


def full_update(frame: Frame) -> LayoutUpdate:
    width = frame[0].cell_length
    return LayoutUpdate([[strip] for strip in frame], Region(0, 0, width, len(frame)))


def emulate(width: int, height: int) -> tuple[pyte.Screen, pyte.Stream]:
    screen = pyte.Screen(width, height)
    return screen, pyte.Stream(screen)


def look(c: pyte.screens.Char) -> tuple[object, ...]:
    """What a cell shows: a blank's foreground, bold or italics are invisible."""
    if c.data == " " and not (c.underscore or c.strikethrough or c.reverse):
        return (" ", c.bg)
    return (c.data, c.fg, c.bg, c.bold, c.italics, c.underscore, c.strikethrough, c.reverse)


def cells(screen: pyte.Screen) -> list[list[tuple[object, ...]]]:
    return [[look(screen.buffer[y][x]) for x in range(screen.columns)] for y in range(screen.lines)]


def intended(frame: Frame) -> list[list[tuple[object, ...]]]:
    """The frame as Textual itself draws it (every row in full) on a fresh terminal."""
    screen, stream = emulate(frame[0].cell_length, len(frame))
    stream.feed("".join(f"\x1b[{y + 1};1H{s.render(CONSOLE)}" for y, s in enumerate(frame)))
    return cells(screen)


def random_row(rng: random.Random, width: int) -> Strip:
    segments = []
    used = 0
    while used < width - 2 and rng.random() < 0.85:
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randrange(1, 4))) + " "
        segments.append(Segment(text, rng.choice(STYLES)))
        used += Strip([segments[-1]]).cell_length
    return row(segments, width)


def next_frame(rng: random.Random, old: Frame) -> Frame:
    """A plausible next frame: rows edited, appended to, or a band scrolled."""
    width, height = old[0].cell_length, len(old)
    new = list(old)
    kind = rng.random()
    if kind < 0.3:
        top = rng.randrange(0, height // 2)
        bottom = rng.randrange(top + 3, height)
        k = rng.choice([1, 1, 2, 3, -1, -2])
        band = new[top : bottom + 1]
        band = band[k:] + [random_row(rng, width) for _ in range(k)] if k > 0 else band
        if k < 0:
            band = [random_row(rng, width) for _ in range(-k)] + band[:k]
        new[top : bottom + 1] = band
        new[rng.randrange(height)] = random_row(rng, width)  # and a scrollbar-like change
    elif kind < 0.6:
        y = rng.randrange(height)
        head = new[y].crop(0, rng.randrange(0, width))
        word = Segment(" " + rng.choice(WORDS), rng.choice(STYLES))
        new[y] = row([*head, word], width)
    else:
        for _ in range(rng.randrange(1, 5)):
            new[rng.randrange(height)] = random_row(rng, width)
    return new


def replay(
    rng: random.Random,
    width: int,
    height: int,
    steps: int,
    step: Callable[[random.Random, Frame], Frame] = next_frame,
) -> None:
    """Random frames one after another through a differ into pyte: each must show as
    Textual itself would draw it."""
    differ = ScreenDiffer(width, height, ColorSystem.TRUECOLOR)
    screen, stream = emulate(width, height)
    frame = [random_row(rng, width) for _ in range(height)]
    for n in range(steps):
        differ.apply(full_update(frame))
        stream.feed(differ.flush((0, height - 1)))
        assert cells(screen) == intended(frame), f"{width}x{height}, frame {n}"
        frame = step(rng, frame)


def test_random_frame_sequences_replay_to_the_intended_screen() -> None:
    rng = random.Random(11)
    for width, height in ((80, 24), (41, 13), (120, 40)):
        replay(rng, width, height, 120)


def alike_row(rng: random.Random, width: int) -> Strip:
    """A row such as the room under a streaming reply: blanks in a pen or two, a bar,
    a track, now and then a wide character, up to the last column."""
    segments: list[Segment] = []
    used = 0
    while used < width:
        kind = rng.random()
        if kind < 0.5:
            segment = Segment(" " * rng.randrange(1, 30), rng.choice([BG, BG, *STYLES]))
        elif kind < 0.7:
            segment = Segment(rng.choice(["│", "▌", "x", "表", "😀", "ab"]), rng.choice(STYLES))
        else:
            segment = Segment(" " * rng.randrange(1, 4), rng.choice(STYLES))
        used += Strip([segment]).cell_length
        if used > width:
            break
        segments.append(segment)
    return row(segments, width)


def scroll_alike_in(rng: random.Random, frame: Frame) -> Frame:
    """Half the time a band scrolls up and rows alike come in below; else `next_frame`."""
    if rng.random() >= 0.5:
        return next_frame(rng, frame)
    width, height = frame[0].cell_length, len(frame)
    top = rng.randrange(0, height // 2)
    band = frame[top : rng.randrange(top + 3, height) + 1]
    k = min(rng.randrange(1, 6), len(band))
    band = band[k:] + [alike_row(rng, width)] * k
    return frame[:top] + band + frame[top + len(band) :]


def test_rows_scrolled_in_alike_replay_to_the_intended_screen() -> None:
    for seed in range(10):
        rng = random.Random(seed)
        width, height = rng.choice([(80, 24), (41, 13), (120, 40), (20, 8)])
        replay(rng, width, height, 25, scroll_alike_in)


def test_frames_skipped_between_flushes_cost_nothing_and_the_latest_one_shows() -> None:
    rng = random.Random(3)
    differ = ScreenDiffer(60, 10)
    screen, stream = emulate(60, 10)
    frame = [random_row(rng, 60) for _ in range(10)]
    differ.apply(full_update(frame))
    stream.feed(differ.flush())
    for _ in range(30):  # drawn while the terminal was still busy: never written
        frame = next_frame(rng, frame)
        differ.apply(full_update(frame))
    stream.feed(differ.flush())
    assert cells(screen) == intended(frame)


def test_appending_a_word_to_a_line_writes_only_that_line() -> None:
    lines = [f"Line {i}: the reply streams in here, token after token" for i in range(20)]
    before = text_frame(lines, 80, 24)
    lines[12] += " appended"
    after = text_frame(lines, 80, 24)
    differ = ScreenDiffer(80, 24)
    screen, stream = emulate(80, 24)
    differ.apply(full_update(before))
    stream.feed(differ.flush((0, 23)))
    screen.dirty.clear()
    differ.apply(full_update(after))
    data = differ.flush((0, 23))
    stream.feed(data)
    assert cells(screen) == intended(after)
    assert len(screen.dirty) <= 2
    assert len(data.encode()) <= 30, repr(data)  # a move, " appended", a move back


def test_a_column_of_changed_cells_costs_a_few_bytes_each() -> None:
    """A scrollbar's thumb that moved: one cell on each of many rows, in one column."""
    before = text_frame([" " * 78 + "|" for _ in range(20)], 80, 24)
    after = text_frame([" " * 78 + ("#" if 5 <= i < 15 else "|") for i in range(20)], 80, 24)
    differ = ScreenDiffer(80, 24)
    screen, stream = emulate(80, 24)
    differ.apply(full_update(before))
    stream.feed(differ.flush((0, 23)))
    differ.apply(full_update(after))
    data = differ.flush()
    stream.feed(data)
    assert cells(screen) == intended(after)
    assert len(data.encode()) <= 10 + 10 * 5, repr(data)  # a move, then down-and-back + "#"


def test_a_move_off_a_row_with_an_emoji_is_absolute() -> None:
    """Terminals disagree on some characters' widths ("⚠️" is 1 cell to Rich, 2 in
    kitty): a relative move from such a row would carry that column off to the next."""
    before = text_frame(["", ""], 40, 5)
    after = text_frame(["warn \u26a0\ufe0f here", " " * 10 + "x"], 40, 5)
    differ = ScreenDiffer(40, 5)
    differ.apply(full_update(before))
    differ.flush()
    differ.apply(full_update(after))
    data = differ.flush()
    assert "\x1b[2;11H" in data, repr(data)  # to row 2, column 11, by position


def test_rows_that_look_the_same_set_each_pen_once() -> None:
    """The room under a streaming reply as it scrolls in: a bar, blanks, a scrollbar
    track, the same on every row. Each pen is set once for all of them, not per row."""
    width, height = 80, 24
    bar, track = STYLES[2], STYLES[7]

    def runway() -> Strip:
        return row([Segment("│", bar), Segment(" " * (width - 3), BG), Segment("  ", track)], width)

    frame = [row([Segment(f"line {y}", BG)], width) for y in range(height - 10)]
    frame += [runway() for _ in range(10)]
    differ = ScreenDiffer(width, height)
    screen, stream = emulate(width, height)
    differ.apply(full_update(frame))
    data = differ.flush((0, 0))
    stream.feed(data)
    assert cells(screen) == intended(frame)
    runway_bytes = data[data.index("line 13") :]
    switches = runway_bytes.count("m")  # each SGR ends in "m"
    assert switches <= 6, f"{switches} pen switches for ten rows alike"
    # Each row cleared (EL) to its blank, then the bar and the track down the rows: no
    # spaces sent, and no cursor position per row (EL leaves no pending wrap).
    assert " " * 2 not in runway_bytes and runway_bytes.count("H") <= 2, repr(runway_bytes)
    assert len(runway_bytes.encode()) <= 10 * 25, repr(runway_bytes)


def test_words_then_a_long_blank_in_one_pen_erase_the_blank() -> None:
    """A new line of text over a row that showed something else: the words go out, the
    rest of the row in the same pen is erased (ECH, EL), not sent as spaces."""
    width = 80
    before = [row([Segment("x" * width, STYLES[2])], width) for _ in range(3)]
    after = [
        row([Segment("hello" + " " * 40, BG), Segment("world", STYLES[1])], width),
        row([Segment("just words", BG)], width),
        row([Segment("   indented" + " " * 30, BG), Segment("|", STYLES[1])], width),
    ]
    differ = ScreenDiffer(width, 3)
    screen, stream = emulate(width, 3)
    differ.apply(full_update(before))
    stream.feed(differ.flush())
    differ.apply(full_update(after))
    data = differ.flush()
    stream.feed(data)
    assert cells(screen) == intended(after)
    assert " " * 4 not in data, repr(data)
    assert len(data.encode()) < 200, repr(data)  # as spaces: over 300


def test_a_line_that_moved_with_the_log_and_grew_is_not_sent_again() -> None:
    """The log jumps while a line is being written: that line moves with the scroll,
    and only its new words go out at its new row."""
    width, height = 60, 20
    lines = [f"line {n} of the reply, with some words to fill it" for n in range(16)]
    footer = [row([Segment(f"prompt row {i}", STYLES[2])], width) for i in range(4)]
    frame0 = text_frame(lines, width, 16) + footer
    grown = lines[6:15] + [lines[15] + " and more"]  # up 6 rows; the last line grew
    frame1 = text_frame(grown, width, 16) + footer
    differ = ScreenDiffer(width, height)
    screen, stream = emulate(width, height)
    differ.apply(full_update(frame0))
    stream.feed(differ.flush())
    differ.apply(full_update(frame1))
    data = differ.flush()
    stream.feed(data)
    assert cells(screen) == intended(frame1)
    assert "\x1b[1;16r" in data  # the log's rows moved by a scroll region
    assert "line 15" not in data and "and more" in data, repr(data)


def test_a_budget_sends_a_big_frame_in_parts_with_the_caret_row_first() -> None:
    rng = random.Random(5)
    width, height = 80, 24
    frame = [random_row(rng, width) for _ in range(height)]
    differ = ScreenDiffer(width, height)
    screen, stream = emulate(width, height)
    differ.apply(full_update(frame))
    parts = []
    while differ.dirty:
        parts.append(differ.flush(budget=300, first=height - 1))
        assert len(parts) < height
    assert len(parts) > 3 and all(len(part) < 300 + 2 * width * 20 for part in parts)
    assert parts[0].startswith(f"\x1b[{height}")  # the caret's row (a key's echo) first
    for part in parts:
        stream.feed(part)
    assert cells(screen) == intended(frame)


def test_unchanged_style_is_not_repeated_and_no_reset_per_run() -> None:
    before = text_frame(["hello"], 40, 5)
    after = text_frame(["hello world, again"], 40, 5)
    differ = ScreenDiffer(40, 5)
    differ.apply(full_update(before))
    differ.flush()
    differ.apply(full_update(after))
    data = differ.flush()
    assert "\x1b[0m" not in data and "m" not in data.replace(" world, again", "")


def test_a_one_line_scroll_of_a_20_line_band_uses_a_scroll_region() -> None:
    width, height = 80, 24
    rng = random.Random(20)
    log = [" ".join(rng.choice(WORDS[:4] + WORDS[5:7]) for _ in range(9)) for _ in range(40)]

    def frame(first: int) -> Frame:
        header = row([Segment(" tui-chat · model", STYLES[1])], width)
        band = [
            row([Segment(text, BG), Segment(" " * (width - 1 - len(text)), BG)], width - 1)
            for text in log[first : first + 20]
        ]
        # A scrollbar in the last column, whose thumb moves with the scroll.
        band = [
            Strip([*b, Segment(" ", STYLES[7] if first <= y < first + 5 else BG)])
            for y, b in enumerate(band)
        ]
        footer = [row([Segment(f"prompt row {i}", STYLES[2])], width) for i in range(3)]
        return [header, *band, *footer]

    differ = ScreenDiffer(width, height)
    screen, stream = emulate(width, height)
    differ.apply(full_update(frame(0)))
    stream.feed(differ.flush((2, 22)))
    differ.apply(full_update(frame(1)))
    data = differ.flush((2, 22))
    stream.feed(data)
    assert cells(screen) == intended(frame(1))
    assert "\x1b[2;21r" in data  # DECSTBM around the band, rows 2..21
    assert len(data.encode()) < 2 * width, f"{len(data.encode())} bytes: {data!r}"


def test_wide_characters_overwritten_by_narrow_ones_and_back() -> None:
    frames = [
        text_frame(["漢字漢字 abc"], 20, 3),
        text_frame(["a漢字漢字 abc"], 20, 3),
        text_frame(["ab字 😀 abc"], 20, 3),
        text_frame(["漢字漢字漢字漢字漢字"], 20, 3),
        text_frame([" 漢字漢字漢字漢字漢"], 20, 3),
    ]
    differ = ScreenDiffer(20, 3)
    screen, stream = emulate(20, 3)
    for frame in frames:
        differ.apply(full_update(frame))
        stream.feed(differ.flush((0, 2)))
        assert cells(screen) == intended(frame)


def test_a_partial_update_draws_over_what_the_frame_already_had() -> None:
    differ = ScreenDiffer(30, 4)
    screen, stream = emulate(30, 4)
    base = text_frame(["0123456789", "abcdefghij"], 30, 4)
    differ.apply(full_update(base))
    stream.feed(differ.flush())
    differ.put(3, 1, [Segment("XYZ", STYLES[2])])
    stream.feed(differ.flush())
    expected = list(base)
    expected[1] = row([Segment("abc", BG), Segment("XYZ", STYLES[2]), Segment("ghij", BG)], 30)
    assert cells(screen) == intended(expected)


def test_pen_switch_emits_only_what_changed() -> None:
    plain = Pen(0, "38;2;1;2;3", "48;2;9;9;9", "")
    bold = plain._replace(attrs=1)
    assert switch(plain, plain) == ""
    assert switch(plain, bold) == "\x1b[1m"
    assert switch(bold, plain) == "\x1b[22m"
    assert switch(bold, bold._replace(fg="31")) == "\x1b[31m"
    assert switch(None, bold) == "\x1b[0;1;38;2;1;2;3;48;2;9;9;9m"
    dim_bold = plain._replace(attrs=0b11)
    assert switch(dim_bold, plain._replace(attrs=0b10)) == "\x1b[22;2m"  # 22 clears both
    linked = plain._replace(link="https://example.com")
    assert switch(plain, linked) == "\x1b]8;;https://example.com\x1b\\"
    assert switch(linked, plain) == "\x1b]8;;\x1b\\"


def test_sixteen_colour_terminals_get_sixteen_colour_codes() -> None:
    differ = ScreenDiffer(10, 1, ColorSystem.STANDARD)
    differ.apply(full_update([row([Segment("hi", Style(color="#ff0000", bgcolor="#000000"))], 10)]))
    data = differ.flush()
    assert "38;2" not in data and "48;2" not in data and "hi" in data


def test_rows_alike_under_a_budget_go_out_a_few_at_a_time() -> None:
    """A paced frame's part stops near its budget even in a run of rows that look the
    same (the room under a reply scrolling in), so a key's echo in the next part is not
    held behind all of them."""
    width, height = 80, 24
    bar, track = STYLES[2], STYLES[7]
    runway = row([Segment("│", bar), Segment(" " * (width - 3), BG), Segment("  ", track)], width)
    frame = [row([Segment(f"line {y}", BG)], width) for y in range(4)] + [runway] * 20
    whole = ScreenDiffer(width, height)
    whole.apply(full_update(frame))
    unpaced = whole.flush()
    differ = ScreenDiffer(width, height)
    screen, stream = emulate(width, height)
    differ.apply(full_update(frame))
    parts = []
    while differ.dirty:
        parts.append(differ.flush(budget=100))
        assert len(parts) < height
    assert len(parts[0]) < 300 < len(unpaced), (len(parts[0]), len(unpaced))
    for part in parts:
        stream.feed(part)
    assert cells(screen) == intended(frame)
