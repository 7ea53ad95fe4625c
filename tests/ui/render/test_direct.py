"""A reply's changed lines go straight into the differ, drawn as the compositor draws
them, unless something covers the reply or a layout is pending."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from tui_chat.ui.render import install
from tui_chat.ui.render.differ import ScreenDiffer
from tui_chat.ui.widgets.conversation.reply_body import ReplyBody

SIZE = (60, 20)


class Host(App[None]):
    CSS = "#cover { layer: over; offset: 2 1; width: 8; height: 3; display: none; }"

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("Above the reply.")
            yield ReplyBody(live=True)
        yield Static("COVER", id="cover")

    def on_mount(self) -> None:
        self.screen.styles.layers = ("default", "over")


def screen_text(app: App[None]) -> list[str]:
    """What a full render of the screen draws, through a fresh differ."""
    differ = ScreenDiffer(*SIZE)
    differ.apply(app.screen._compositor.render_update(full=True))
    return desired(differ)


def desired(differ: ScreenDiffer) -> list[str]:
    """The rows the render layer means the terminal to show next."""
    return ["".join(row) for row in differ.desired.chars]


def with_differ(app: App[None]) -> ScreenDiffer:
    """The render layer's differ, as the first frame on a real terminal makes it (a
    headless app never writes, so it has none)."""
    layer = app._render_layer  # type: ignore[attr-defined]
    layer.differ = ScreenDiffer(*SIZE)
    layer.differ.apply(app.screen._compositor.render_update(full=True))
    return layer.differ


async def test_a_new_word_is_put_into_the_screen_as_the_compositor_draws_it() -> None:
    app = Host()
    install(app)
    async with app.run_test(size=SIZE) as pilot:
        body = app.query_one(ReplyBody)
        body.append("The first words of a reply")
        await pilot.pause()
        differ = with_differ(app)
        body.append(" and one more")
        assert body.lines_repainted, "a line changed"
        shown = desired(differ)
        assert any("a reply and one more" in row for row in shown), "painted at once"
        assert not app.screen._compositor._dirty_regions, "nothing left for the compositor"
        await pilot.pause()
        assert shown == screen_text(app)


async def test_a_reply_under_another_widget_is_left_to_the_compositor() -> None:
    app = Host()
    install(app)
    async with app.run_test(size=SIZE) as pilot:
        body = app.query_one(ReplyBody)
        body.append("The first words of a reply")
        app.query_one("#cover").display = True
        await pilot.pause()
        differ = with_differ(app)
        before = desired(differ)
        body.append(" and one more")
        assert desired(differ) == before, "not painted"
        await pilot.pause()
        text = "\n".join(screen_text(app))
        assert "COVER" in text and "one more" in text


async def test_a_widget_that_comes_in_front_after_a_paint_stops_the_next_one() -> None:
    """Where the reply is, and whether anything covers it, is known once per layout:
    a cover shown between two tokens is seen by the second."""
    app = Host()
    install(app)
    async with app.run_test(size=SIZE) as pilot:
        body = app.query_one(ReplyBody)
        body.append("The first words of a reply")
        await pilot.pause()
        differ = with_differ(app)
        body.append(" and more")
        assert any("and more" in row for row in desired(differ)), "painted"
        app.query_one("#cover").display = True
        await pilot.pause()
        before = desired(differ)
        body.append(" and LAST")
        assert desired(differ) == before, "not painted"
        await pilot.pause()
        text = "\n".join(screen_text(app))
        assert "COVER" in text and "LAST" in text


async def test_a_scroll_on_its_way_to_the_screen_leaves_the_lines_to_the_compositor() -> None:
    """Between a scroll asked for and the screen laying it out, the reply's place on
    screen is not known yet: painting then would draw the word on its old row."""
    app = Host()
    install(app)
    async with app.run_test(size=SIZE) as pilot:
        body = app.query_one(ReplyBody)
        body.append("".join(f"Line number {i} of the reply.\n\n" for i in range(30)))
        await pilot.pause()
        log = app.query_one(VerticalScroll)
        log.scroll_end(animate=False)
        await pilot.pause()
        differ = with_differ(app)
        log.scroll_y = log.max_scroll_y - 4  # as a wheel does: the scroll is asked for
        assert log._scroll_required
        log._check_refresh()  # the log's idle ran: the screen has the scroll to do
        body.append("Line number 30, grown by a TOKEN")
        assert body.lines_repainted, "a line changed"
        assert not any("TOKEN" in row for row in desired(differ))
