"""The reply body: Markdown drawn as cached lines, where a new word repaints its line only."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.filter import Monochrome
from textual.geometry import Offset, Region
from textual.selection import Selection
from textual.strip import Strip
from textual.widget import Widget

from tui_chat.ui.widgets.conversation.reply_body import ReplyBody

PARAGRAPH = "The quick brown fox jumps over the lazy dog and keeps on running " * 3
ELEMENTS = {
    "heading": "# A title\n\n## A section\n\nText under it.\n",
    "paragraph": f"{PARAGRAPH}\n\nA *second* one with `code` and **bold**.\n",
    "list": "Items:\n\n- one\n- two\n  - nested\n- three\n\n1. first\n2. second\n",
    "code": "Before.\n\n```python\ndef f(x: int) -> int:\n    return x + 1\n```\n\nAfter.\n",
    "table": "| name | value |\n|------|------:|\n| a | 1 |\n| bb | 22 |\n\nDone.\n",
    "quote": "> quoted text\n> more of it\n\nplain\n",
    "fence without a gap": "Look:\n```\nraw\n```\nthen text\n",
}


class Host(App[None]):
    """The body inside a scrolling log, as a reply sits in the chat."""

    def __init__(self, body: ReplyBody) -> None:
        super().__init__()
        self.body = body

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield self.body


def lines(body: ReplyBody) -> list[str]:
    return [body.render_line(y).text.rstrip() for y in range(body.size.height)]


async def stream(pilot: object, body: ReplyBody, source: str, step: int = 3) -> None:
    for start in range(0, len(source), step):
        body.append(source[start : start + step])
        await pilot.pause()  # type: ignore[attr-defined]


@pytest.mark.parametrize("element", sorted(ELEMENTS))
async def test_streamed_markdown_ends_drawn_as_the_whole_reply_is(element: str) -> None:
    """Cutting a reply into blocks as it streams must not change how it looks."""
    source = ELEMENTS[element]
    streamed, whole = ReplyBody(live=True), ReplyBody(source)
    async with Host(streamed).run_test(size=(60, 30)) as pilot:
        await stream(pilot, streamed, source)
        streamed.finish()
        await pilot.pause()
        got = [streamed.render_line(y) for y in range(streamed.size.height)]
        assert streamed.source == source
    async with Host(whole).run_test(size=(60, 30)) as pilot:
        await pilot.pause()
        want = [whole.render_line(y) for y in range(whole.size.height)]
    assert [s.text for s in got] == [s.text for s in want]
    assert got == want, "same cells and same styles"


async def test_each_markdown_element_is_drawn() -> None:
    body = ReplyBody("\n".join(ELEMENTS.values()))
    async with Host(body).run_test(size=(60, 60)) as pilot:
        await pilot.pause()
        drawn = "\n".join(lines(body))
    assert "A title" in drawn and "#" not in drawn.split("A title")[0], "heading, no hashes"
    assert "• one" in drawn and "nested" in drawn, "bullets"
    assert "1 first" in drawn or "1. first" in drawn
    assert "def f(x: int) -> int:" in drawn and "```" not in drawn, "code without fences"
    assert "name" in drawn and "22" in drawn and "─" in drawn, "a table with rules"
    assert "quoted text" in drawn and "> quoted" not in drawn
    assert "**" not in drawn and "`code`" not in drawn


async def test_appending_a_word_to_a_line_repaints_at_most_two_lines() -> None:
    body = ReplyBody(live=True)
    async with Host(body).run_test(size=(60, 30)) as pilot:
        await stream(pilot, body, "# Title\n\nSome text before.\n\n" + PARAGRAPH[:90], step=10)
        before = lines(body)
        body.append("word ")
        await pilot.pause()
        assert 1 <= len(body.lines_repainted) <= 2, body.lines_repainted
        after = lines(body)
        changed = [y for y, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
        assert set(changed) <= set(body.lines_repainted), "every changed line was repainted"
        assert "word" in after[body.lines_repainted[0]]


async def test_an_open_code_fence_draws_like_the_closed_block() -> None:
    code = "```python\nimport os\n\ndef f(x: int) -> int:\n    return x + 1\n"
    growing, closed = ReplyBody(live=True), ReplyBody(code + "```\n")
    async with Host(growing).run_test(size=(60, 30)) as pilot:
        await stream(pilot, growing, code, step=4)
        got = lines(growing)
    async with Host(closed).run_test(size=(60, 30)) as pilot:
        await pilot.pause()
        want = lines(closed)
    assert got[: len(want)] == want


async def test_a_code_fence_just_closed_draws_like_the_settled_block() -> None:
    """Until a blank line settles it, a closed fence is still drawn line by line."""
    code = "Look:\n```python\ndef f(x: int) -> int:\n    return x + 1\n```"
    growing, closed = ReplyBody(live=True), ReplyBody(code + "\n\nAfter.\n")
    async with Host(growing).run_test(size=(60, 30)) as pilot:
        await stream(pilot, growing, code + "\n", step=4)
        got = [line for line in lines(growing) if line]
    async with Host(closed).run_test(size=(60, 30)) as pilot:
        await pilot.pause()
        want = [line for line in lines(closed) if line]
    assert got == want[:-1] and want[-1] == "After."


async def test_a_partial_code_line_is_shown_as_it_grows() -> None:
    body = ReplyBody(live=True)
    async with Host(body).run_test(size=(60, 30)) as pilot:
        await stream(pilot, body, "```python\nprint('hel", step=4)
        assert any("print('hel" in line for line in lines(body))
        body.append("lo')")
        await pilot.pause()
        assert any("print('hello')" in line for line in lines(body))


CODE_LINES = [
    "",
    "x = 1",
    "    return {'a': [1, 2.5, None]}  # a comment",
    "\tindented\twith tabs",
    "s = '漢字とかな' + \"🙂 emoji\"  ",
    "y" * 56,  # exactly the room inside the block's one-cell edges at 58 columns
    "z" * 57,  # one more: it wraps
    "def a_long_line(" + ", ".join(f"arg{n}: int" for n in range(12)) + ") -> None:",
    "form\x0cfeed",
]


@pytest.mark.parametrize("width", [58, 30])
async def test_a_code_line_is_drawn_as_richs_code_block_draws_it(width: int) -> None:
    """A fence's growing line is drawn on every token: a line that fits skips Rich's
    wrap, and must come out cell for cell as Rich draws it."""
    from rich.segment import Segment
    from textual.strip import Strip

    from tui_chat.ui.widgets.conversation.reply_body import _code_background, _highlighter

    body = ReplyBody(live=True)
    async with Host(body).run_test(size=(width, 30)) as pilot:
        await stream(pilot, body, "```python\nx")
        assert body.size.width == width
        console, background = body.app.console, _code_background()
        edge = Segment(" ", background)
        options = console.options.update(width=width - 2, height=None, highlight=False)
        for line in CODE_LINES:
            text = _highlighter("python").highlight(line.expandtabs(8))
            text.rstrip()
            rows = console.render_lines(text, options, style=background, pad=True)
            want = [Strip([edge, *row, edge], width) for row in rows]
            got = body._code_line(line, "python", keep=False)
            assert [strip.text for strip in got] == [strip.text for strip in want], line
            assert [cells(strip) for strip in got] == [cells(strip) for strip in want], line


async def test_each_cell_knows_its_offset_as_textual_marks_it() -> None:
    """The mouse selects text by the offset each cell carries: the rows made with the
    offsets' styles kept must carry what Textual's own `apply_offsets` puts there, also
    for a line drawn again as it grows."""
    body = ReplyBody(live=True)
    async with Host(body).run_test(size=(60, 30)) as pilot:
        await stream(pilot, body, ELEMENTS["paragraph"] + ELEMENTS["code"], step=7)
        for _ in range(2):  # the second time from the kept styles
            for y in range(len(body._lines)):
                got, want = body.render_line(y), body._lines[y].apply_offsets(0, y)
                assert list(got) == list(want), y
                assert [s.style.meta for s in got if s.style] == [
                    s.style.meta for s in want if s.style
                ]
            body.append(" more")
            await pilot.pause()


async def test_code_is_not_drawn_while_the_highlighters_are_being_made() -> None:
    """Pygments compiles a lexer's patterns into its class: the warm-up's thread and the
    event loop must not both do it at once, so drawing code waits for the warm-up."""
    import threading

    from tui_chat.ui.widgets.conversation import reply_body

    body = ReplyBody(live=True)
    async with Host(body).run_test(size=(60, 30)) as pilot:
        await stream(pilot, body, "Text first.\n\n")
        held, order = threading.Event(), []

        def warm_up() -> None:
            with reply_body._LEXERS:
                held.set()
                threading.Event().wait(0.2)
                order.append("warmed")

        thread = threading.Thread(target=warm_up)
        thread.start()
        held.wait(5)
        body.append("```python\nx = 1")
        order.append("drawn")
        thread.join(5)
        assert order == ["warmed", "drawn"]
        assert any("x = 1" in line for line in lines(body))


def cells(strip: object) -> list[tuple[str, object]]:
    return [(ch, segment.style) for segment in strip for ch in segment.text]  # type: ignore[attr-defined]


async def test_streaming_keeps_room_below_the_text_and_gives_it_back_at_the_end() -> None:
    """The log grows in jumps while a reply streams (fewer layouts and scrolls)."""
    body = ReplyBody(live=True)
    async with Host(body).run_test(size=(60, 24)) as pilot:
        await stream(pilot, body, "Line one of many.\n\nLine two.\n\n", step=8)
        drawn = len([line for line in lines(body) if line])
        assert body.size.height > drawn + 2, "room is kept below the streaming text"
        heights = set()
        for n in range(3, 12):
            body.append(f"Line {n}.\n\n")
            await pilot.pause()
            heights.add(body.size.height)
        assert len(heights) < 9, "the body grew in jumps, not a line at a time"
        body.finish()
        await pilot.pause()
        assert body.size.height == len(body._lines), "no room left once finished"
        assert lines(body)[-1] == "Line 11."


async def test_a_resize_rewraps_the_text_to_the_new_width() -> None:
    body = ReplyBody(PARAGRAPH)
    async with Host(body).run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        wide = lines(body)
        await pilot.resize_terminal(40, 24)
        await pilot.pause()
        narrow = lines(body)
        assert len(narrow) > len(wide)
        assert all(len(line) <= body.size.width for line in narrow)
        assert " ".join(" ".join(narrow).split()) == " ".join(PARAGRAPH.split())


async def test_selected_text_is_the_text_drawn() -> None:
    body = ReplyBody("# Title\n\nfirst line of text\n")
    async with Host(body).run_test(size=(60, 24)) as pilot:
        await pilot.pause()
        row = next(y for y, line in enumerate(lines(body)) if line.startswith("first"))
        await pilot.mouse_down(body, offset=(0, row))
        await pilot.hover(body, offset=(9, row))
        await pilot.mouse_up(body, offset=(9, row))
        await pilot.pause()
        assert pilot.app.screen.get_selected_text() == "first line"
        everything = body.get_selection(Selection(None, None))
        assert everything is not None and "Title" in everything[0]
        pilot.app.screen.selections = {body: Selection(Offset(0, row), Offset(5, row))}
        await pilot.pause()
        assert pilot.app.screen.get_selected_text() == "first"


async def test_plain_prose_is_drawn_as_markdown_draws_it_at_every_step() -> None:
    """Prose is only wrapped while it streams (no parse): it must look the same."""
    prose = "Hello there, this is (mostly) plain prose: 42% of it; isn't it nice? " * 4
    body = ReplyBody(live=True)
    async with Host(body).run_test(size=(50, 30)) as pilot:
        await pilot.pause()
        for start in range(0, len(prose), 7):
            body.append(prose[start : start + 7])
            shown = [strip.text for strip in body._tail_lines]
            parsed = [strip.text for strip in body._block(body.source)]
            assert shown == parsed, body.source


PARAGRAPHS = {
    "marks": "The quick brown fox **jumps over** the lazy dog with `code` and *emphasis* "
    "and ~~struck~~ words, then [a link](https://example.com/a/long/path) and more. " * 3,
    "a mark left open": "Unclosed **bold that goes on past the end of the line and "
    "further, until it closes ** and more text after it to wrap again " * 2,
    "marks that shrink": "`x` aaaaaaaa bbbbbbbbbb cccccccccc ddddddddd eeeeeeeee `y` fffff "
    "gggggggg `zz` hhhhhh " * 4,
    "a word too long": "Short words then "
    + "averyveryveryveryveryveryveryveryveryveryveryveryveryverylongword " * 2
    + "and short ones again *after* it " * 3,
    "soft breaks": "A line of text that\nbreaks softly in the source\nand goes on **over "
    "three**\nsource lines and wraps " * 3,
}


@pytest.mark.parametrize("name", sorted(PARAGRAPHS))
@pytest.mark.parametrize("width", [50, 31])
async def test_a_paragraph_is_drawn_as_markdown_draws_it_at_every_step(
    name: str, width: int
) -> None:
    """The paragraph being written is wrapped again only from its second-to-last line:
    at every character it must look as Rich's Markdown draws the whole of it."""
    source = PARAGRAPHS[name]
    body = ReplyBody(live=True)
    async with Host(body).run_test(size=(width + 2, 60)) as pilot:
        await pilot.pause()
        for end in range(1, len(source) + 1):
            body.append(source[end - 1])
            assert body._tail_lines == body._block(body._tail), repr(body._tail)


async def test_a_growing_paragraph_keeps_the_lines_above_its_last_two() -> None:
    body = ReplyBody(live=True)
    async with Host(body).run_test(size=(50, 40)) as pilot:
        await pilot.pause()
        body.append(PARAGRAPHS["marks"][:300])
        first = body._tail_lines[0]
        body.append(" more")
        assert len(body._tail_lines) > 3
        assert body._tail_lines[0] is first, "the paragraph's first line was drawn again"


LISTS = {
    "bullets": "- one thing\n- two `code` things\n- three **bold** things here\n",
    "after a line": "Items:\n- first of them\n- second of them\n- third\n",
    "nested": "- top\n  - inner one\n  - inner two\n- next top\n  continued\n- last\n",
    "numbered past nine": "".join(f"{n}. item number {n}\n" for n in range(1, 13)),
    "numbered from seven": "".join(f"{n}) step {n}\n" for n in range(7, 12)),
    "lazy numbers": "1. a\n1. b\n1. c\n",
    "a rule after": "- a\n- b\n- - -\n\nafter\n",
    "two bullets": "- dash\n* star\n+ plus\n",
    "not a list": "Text then\n2. two\n3. three\n",
    "then a heading": "- a\n- b\n# Head\n",
    "long items": "- short\n- "
    + PARAGRAPHS["marks"][:170]
    + "\n- "
    + PARAGRAPHS["marks"][:120]
    + "\n",
    "long numbered items": "8. a\n9. "
    + PARAGRAPHS["a mark left open"][:150]
    + "\n10. "
    + PARAGRAPHS["marks that shrink"][:140]
    + "\n",
    "an item with a long word": "- a\n- " + PARAGRAPHS["a word too long"][:120] + "\n",
    "an item that breaks softly": "- a\n- two lines\n  in one item that goes on\n",
    "one item": "- " + PARAGRAPHS["marks"][:130] + "\n",
    "one item from three": "3) " + PARAGRAPHS["marks"][:90] + "\n",
    "one item under a line": "Text:\n- an item under it\n",
}


@pytest.mark.parametrize("name", sorted(LISTS))
async def test_a_streaming_list_is_drawn_as_markdown_draws_it_at_every_step(name: str) -> None:
    """Only a list's last item is drawn again as it grows: it must look the same."""
    source = LISTS[name]
    body = ReplyBody(live=True)
    async with Host(body).run_test(size=(50, 40)) as pilot:
        await pilot.pause()
        for end in range(1, len(source) + 1):
            body.append(source[end - 1])
            want = body._block(body._tail)
            assert body._tail_lines == want, repr(body._tail)


@pytest.mark.parametrize("before", ["", "- first\n"])
async def test_a_growing_list_item_keeps_the_lines_above_its_last_two(before: str) -> None:
    """The last item (the first one too) is drawn as the paragraph being written is:
    the lines above its last two stay as they were."""
    body = ReplyBody(live=True)
    async with Host(body).run_test(size=(50, 40)) as pilot:
        await pilot.pause()
        body.append(before + "- " + PARAGRAPHS["marks"][:300])
        at = 1 if before else 0
        first = body._tail_lines[at]
        body.append(" more")
        assert len(body._tail_lines) > 4
        assert body._tail_lines[at] is first, "the item's first line was drawn again"
        assert body._tail_lines == body._block(body._tail)


TABLE = "| name | value |\n|------|------:|\n| alpha | 1 |\n| beta | 22 |\n"


async def test_a_table_row_is_drawn_when_its_line_ends() -> None:
    body = ReplyBody(live=True)
    async with Host(body).run_test(size=(60, 30)) as pilot:
        await stream(pilot, body, TABLE[: TABLE.index("| beta")] + "| be")
        drawn = "\n".join(lines(body))
        assert "alpha" in drawn and "be" not in drawn.replace("alpha", ""), drawn
        body.append("ta | 22 |")
        await pilot.pause()
        assert "beta" not in "\n".join(lines(body)), "the row waits for its line's end"
        body.append("\n")
        await pilot.pause()
        assert "beta" in "\n".join(lines(body))


async def test_a_reply_that_ends_mid_row_shows_the_row() -> None:
    """The row held back is drawn when the reply ends, though no newline came."""
    source = TABLE.rstrip("\n")
    streamed, whole = ReplyBody(live=True), ReplyBody(source)
    async with Host(streamed).run_test(size=(60, 30)) as pilot:
        await stream(pilot, streamed, source)
        streamed.finish()
        assert "beta" in "\n".join(lines(streamed)), "before the next frame"
        await pilot.pause()
        got = lines(streamed)
    async with Host(whole).run_test(size=(60, 30)) as pilot:
        await pilot.pause()
        want = lines(whole)
    assert got == want


async def test_a_line_that_only_starts_with_a_bar_streams_as_prose() -> None:
    """Not a table row: "|x|" opening a line after text is shown as it comes."""
    body = ReplyBody(live=True)
    async with Host(body).run_test(size=(60, 30)) as pilot:
        await stream(pilot, body, "Some text.\n|x| is the absolute val")
        assert any("|x| is the absolute val" in line for line in lines(body))


async def test_rows_come_out_as_textuals_styles_cache_draws_them() -> None:
    """The body hands the screen its rows itself (past Textual's styles cache): they
    must be the cells the styles cache would give, line filters (NO_COLOR) included,
    and cropped rows too."""
    source = "".join(ELEMENTS[name] for name in sorted(ELEMENTS))
    body = ReplyBody(live=True)
    async with Host(body).run_test(size=(60, 30)) as pilot:
        await stream(pilot, body, source, step=40)
        await pilot.pause()
        assert body._plain, "a plain widget: its rows must not go through Textual's path"
        for crop in (body.size.region, Region(3, 2, 20, 9)):
            mine = body.render_lines(crop)
            body._styles_cache.clear()
            theirs = Widget.render_lines(body, crop)
            assert mine == theirs
        pilot.app._filters.append(Monochrome())  # as NO_COLOR adds
        mono = body.render_lines(body.size.region)
        body._styles_cache.clear()
        assert mono == Widget.render_lines(body, body.size.region)
        assert mono != theirs


class SteadyHost(Host):
    """A log whose scrollbar's room is kept from the start, so its width never moves."""

    CSS = "VerticalScroll { scrollbar-gutter: stable; }"


async def test_a_runway_jump_renders_no_unchanged_line_again() -> None:
    """Each jump changes the body's size, after which Textual's styles cache renders
    every row again (75 µs each): only rows whose line changed may be rendered."""
    body = ReplyBody(live=True)
    async with SteadyHost(body).run_test(size=(60, 14)) as pilot:
        body.append(PARAGRAPH + "\n\nThe next one")  # the first block settles
        await pilot.pause()
        settled = len(body._done_lines) - 1  # its lines, without the gap below them
        assert settled > 1
        height = body.size.height
        rendered: list[int] = []
        row = body._with_offsets  # each line's row is made through it

        def counted(strip: Strip, y: int) -> Strip:
            rendered.append(y)
            return row(strip, y)

        body._with_offsets = counted  # type: ignore[method-assign]
        body.append(" goes on" * 36)  # past the room kept below: the body grows
        await pilot.pause()
        assert body.size.height > height, "no jump happened"
        assert len(body._lines) < 14, "the new lines are on screen"
        assert [y for y in rendered if y >= settled], "the new lines were not drawn"
        assert not [y for y in rendered if y < settled], "unchanged lines were rendered again"
