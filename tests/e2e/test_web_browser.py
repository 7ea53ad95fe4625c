"""`tui-chat web` in a real browser: Debian's Chromium, driven by playwright (no browser
download; `.ci/run` installs the `chromium` package). The page is textual-serve's; what
the tab's terminal shows is read from the websocket frames the page received, drawn on a
pyte screen of the size the page asked for.

`TUI_CHAT_WEB_SCREENSHOT=docs/web.png pytest tests/e2e/test_web_browser.py` also
writes the README's screenshot.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyte
import pytest
from entry.test_web import PLACEHOLDER, Web, app_processes, footer_shows
from playwright.sync_api import Page, Request, WebSocket, sync_playwright

from tui_chat.history import HistoryStore

from fake_server import FakeLLMServer, Script

CHROMIUM = Path("/usr/bin/chromium")
GOOGLE_FONT = "https://fonts.googleapis.com/css?family=Roboto%20Mono"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"no Chromium at {CHROMIUM}: `apt-get install chromium` (.ci/run does)",
)


class BrowserTab:
    """The page, and its terminal as the websocket frames it received draw it."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.screen = pyte.Screen(80, 24)
        self._stream = pyte.ByteStream(self.screen)
        self.sockets: list[WebSocket] = []
        page.on("websocket", self._opened)

    def _opened(self, ws: WebSocket) -> None:
        self.sockets.append(ws)
        ws.on("framereceived", self._received)
        ws.on("framesent", self._sent)

    def _received(self, payload: str | bytes) -> None:
        if isinstance(payload, bytes):
            self._stream.feed(payload)

    def _sent(self, payload: str | bytes) -> None:
        message = json.loads(payload)
        if message[0] == "resize":  # the page sizes the app to the terminal it fits
            size = message[1]
            self.screen.resize(lines=size["height"], columns=size["width"])

    def text(self) -> str:
        return "\n".join(self.screen.display)

    def wait_until(self, condition: Callable[[str], bool], what: str, timeout: float = 20) -> None:
        """Poll with playwright's wait, which is when the page's events are delivered."""
        deadline = time.monotonic() + timeout
        while not condition(self.text()):
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} never showed; the tab shows:\n{self.text()}")
            self.page.wait_for_timeout(25)

    def wait_for(self, text: str, timeout: float = 20) -> None:
        self.wait_until(lambda screen: text in screen, repr(text), timeout)

    def click_cell(self, column: int, row: int) -> None:
        box = self.page.locator(".xterm-screen").bounding_box()
        assert box is not None
        width, height = box["width"] / self.screen.columns, box["height"] / self.screen.lines
        self.page.mouse.click(box["x"] + (column + 0.5) * width, box["y"] + (row + 0.5) * height)


@contextmanager
def server_stopped(server: Web) -> Iterator[None]:
    try:
        yield
    finally:
        server.stop()


def _reply(stored: Any) -> tuple[str, str]:
    return stored.content, stored.status


def test_chat_in_chromium_streams_stops_and_opens_help(fake_server: FakeLLMServer, tmp_path):
    words = [f" word{i}" for i in range(12)]
    fake_server.enqueue(
        # Held after two chunks until the partial reply has been seen: a timed gap raced the
        # page's websocket on a busy CI machine, and the whole reply arrived in one poll.
        Script(chunks=["Hello from", " the same", " app,", " in a", " browser tab."], hold_after=2),
        Script(chunks=["Partial", " answer", *words], hold_after=2),
    )
    server = Web(["--api", "chat", "--base-url", fake_server.openai_url, "--model", "web-model"])
    with server_stopped(server), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        try:
            page = browser.new_page(viewport={"width": 880, "height": 540})
            tab = BrowserTab(page)
            requests: list[Request] = []
            page.on("request", lambda request: requests.append(request))
            page.goto(server.url)
            tab.wait_for(PLACEHOLDER)  # the app is up, sized to the page
            assert "web-model" in tab.text()
            row = next(i for i, line in enumerate(tab.screen.display) if PLACEHOLDER in line)
            tab.click_cell(4, row)  # into the prompt box, as a user would
            tab.wait_until(lambda _: footer_shows(tab.screen), "the footer (the app has focus)")
            assert len(app_processes(server.proc.pid)) == 1

            page.keyboard.type("Say hello")
            tab.wait_for("Say hello")
            page.keyboard.press("Enter")
            tab.wait_until(
                lambda s: "Hello from the same" in s and "browser tab." not in s,
                "a partly streamed reply",
            )
            fake_server.release()
            tab.wait_for("Hello from the same app, in a browser tab.")
            tab.wait_for("first token")

            page.keyboard.type("Tell me more")
            tab.wait_for("Tell me more")
            page.keyboard.press("Enter")
            tab.wait_for("Partial answer")
            page.keyboard.press("Escape")  # mid-reply: the server holds the rest back
            tab.wait_for("stopped")
            assert "word0" not in tab.text()
            shot = tmp_path / "web.png"
            page.screenshot(path=shot)
            assert shot.stat().st_size > 10_000  # a drawn terminal, not a blank page
            if target := os.environ.get("TUI_CHAT_WEB_SCREENSHOT"):
                shutil.copyfile(shot, target)

            page.keyboard.press("F1")
            tab.wait_for("tui-chat keys")
            page.keyboard.press("Escape")
            tab.wait_until(lambda s: "tui-chat keys" not in s, "the chat again")

            # Nothing from elsewhere: textual-serve's page asks Google for a font, and the
            # browser itself blocks that (not a network that happens to be offline).
            elsewhere = [r for r in requests if not r.url.startswith(server.base)]
            assert [(r.url, r.failure) for r in elsewhere] == [(GOOGLE_FONT, "csp")]

            page.close()  # the tab goes: so does its app
            deadline = time.monotonic() + 15
            while app_processes(server.proc.pid):
                assert time.monotonic() < deadline, "the app outlived its tab"
                time.sleep(0.05)
        finally:
            browser.close()
    assert server.stop() == 0

    store = HistoryStore.open(read_only=True)
    try:
        conversation = store.get_conversation(store.latest_id())
    finally:
        store.close()
    assert conversation is not None and conversation.model == "web-model"
    replies = [_reply(m) for m in conversation.messages if m.role == "assistant"]
    assert replies == [
        ("Hello from the same app, in a browser tab.", "complete"),
        ("Partial answer", "stopped"),
    ]
