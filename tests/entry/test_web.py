"""`tui-chat web`, run as the installed script, driven over real HTTP and websockets the
way textual-serve's page drives it (the browser itself: tests/e2e/test_web_browser.py)."""

from __future__ import annotations

import asyncio
import os
import select
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import aiohttp
import pyte
import pytest

from conftest import FAKE_API_KEY
from console_script import TUI_CHAT
from fake_server import FakeLLMServer, Script


class Web:
    """A running `tui-chat web --port 0`: its process, the URL it printed, its token."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [*TUI_CHAT, "web", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], 20)
        line = self.proc.stdout.readline() if ready else ""
        assert "http://" in line, f"no URL printed: {line!r}; stderr: {self.stderr()}"
        self.url = line.split()[-1]
        self.base, self.token = self.url.split("/?token=")

    def ws_url(self, token: str | None = None, width: int = 100, height: int = 30) -> str:
        ws = self.base.replace("http://", "ws://")
        return f"{ws}/ws/{self.token if token is None else token}?width={width}&height={height}"

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def stderr(self) -> str:
        self.stop()
        assert self.proc.stderr is not None
        return self.proc.stderr.read()


@pytest.fixture
def web() -> Iterator[Callable[..., Web]]:
    started: list[Web] = []

    def start(*args: str, env: dict[str, str] | None = None) -> Web:
        started.append(Web(list(args), env))
        return started[-1]

    yield start
    for server in started:
        server.stop()
        for pid in app_processes(server.proc.pid):
            os.kill(pid, signal.SIGKILL)


def app_processes(parent: int) -> list[int]:
    """Every process (zombies too) whose parent is `parent`, from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == parent:
            found.append(int(stat.parent.name))
    return found


def wait_until(condition: Callable[[], bool], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition never became true")
        time.sleep(0.05)


PLACEHOLDER = "Message  (Enter sends"


def footer_shows(screen: pyte.Screen) -> bool:
    """The key footer (the bottom row) is drawn only while the app has focus."""
    return bool(screen.display[-1].strip())


class Tab:
    """What a browser tab does: one websocket, its bytes drawn on a pyte screen."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, width: int, height: int) -> None:
        self.ws = ws
        self.received = bytearray()
        self.screen = pyte.Screen(width, height)
        self._stream = pyte.ByteStream(self.screen)
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, session: aiohttp.ClientSession, url: str) -> Tab:
        tab = cls(await session.ws_connect(url), 100, 30)
        await tab.ws.send_json(["resize", {"width": 100, "height": 30}])  # as the page does
        return tab

    async def _read(self) -> None:
        async for message in self.ws:
            if message.type == aiohttp.WSMsgType.BINARY:
                self.received += message.data
                self._stream.feed(message.data)

    def text(self) -> str:
        return "\n".join(self.screen.display)

    async def wait_for(self, text: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.text():
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never appeared; the tab shows:\n{self.text()}")
            await asyncio.sleep(0.05)

    async def ready(self, timeout: float = 20) -> None:
        """Focus the page and click into the prompt, as a user does, once the app is up.

        The app starts blurred (the page has no focus yet), and a focus can come before
        that blur; then the prompt may hold no focus, so the click is what puts it there.
        """
        deadline = time.monotonic() + timeout
        while not footer_shows(self.screen):
            if time.monotonic() > deadline:
                raise AssertionError(f"the app never got ready; the tab shows:\n{self.text()}")
            await self.ws.send_json(["focus"])
            await asyncio.sleep(0.2)
        await self.wait_for(PLACEHOLDER)
        row = next(i for i, line in enumerate(self.screen.display) if PLACEHOLDER in line)
        await self.type(f"\x1b[<0;5;{row + 1}M\x1b[<0;5;{row + 1}m")  # SGR mouse press, release

    async def type(self, text: str) -> None:
        await self.ws.send_json(["stdin", text])

    async def send(self, prompt: str) -> None:
        """Type a prompt, then Enter on its own, as keys come from a browser (text and a
        newline in one read would be taken for a paste)."""
        await self.type(prompt)
        await self.wait_for(prompt)
        await self.type("\r")

    async def close(self) -> None:
        await self.ws.close()
        await self._reader


async def wait_for_processes(parent: int, count: int, timeout: float = 15) -> list[int]:
    deadline = time.monotonic() + timeout
    while len(found := app_processes(parent)) != count:
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(found)} app processes, not {count}: {found}")
        await asyncio.sleep(0.05)
    return found


def chat_args(server: FakeLLMServer, *more: str) -> list[str]:
    return ["--api", "chat", "--base-url", server.openai_url, *more]


async def test_prints_its_url_with_a_random_token_once_listening(web):
    first, second = web("--api", "local"), web("--api", "local")
    assert first.base.startswith("http://127.0.0.1:")
    assert len(first.token) >= 16 and first.token != second.token
    async with aiohttp.ClientSession() as session, session.get(first.url) as page:
        assert page.status == 200
        html = await page.text()
        headers = page.headers
    assert f"/ws/{first.token}" in html
    # The page goes nowhere else, and tells nobody its address (which holds the token).
    assert headers["Content-Security-Policy"].startswith("default-src 'self';")
    assert headers["Referrer-Policy"] == "no-referrer"


async def test_a_missing_or_wrong_token_is_refused_with_403(web):
    server = web("--api", "local", "--token", "s3cret-token")
    assert server.token == "s3cret-token"
    async with aiohttp.ClientSession() as session:
        for url in (server.base + "/", server.base + "/?token=wrong", server.base + "/ws/x"):
            async with session.get(url) as response:
                assert response.status == 403, url
                assert "s3cret" not in await response.text()
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(server.ws_url(token="s3cret-tokex"))
        assert refused.value.status == 403
        async with session.get(server.url) as page:
            assert page.status == 200
    assert app_processes(server.proc.pid) == []  # a refused websocket starts no app


def test_busy_port_is_one_line_and_exit_2():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [*TUI_CHAT, "web", "--port", str(port), "--api", "local"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and f"cannot listen on 127.0.0.1:{port}" in lines[0], lines


def test_another_address_than_loopback_prints_one_warning_line(web):
    assert web("--api", "local").stderr() == ""
    lines = web("--host", "0.0.0.0", "--api", "local").stderr().splitlines()
    assert len(lines) == 1, lines
    assert "warning" in lines[0] and "0.0.0.0" in lines[0] and "key" in lines[0]


@pytest.mark.parametrize(
    "args", [["--temperature", "9"], ["--token", "a b"], ["--port", "http"], ["--api", "x"]]
)
def test_a_bad_flag_is_one_line_and_exit_2_before_listening(args):
    result = subprocess.run([*TUI_CHAT, "web", *args], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr


async def test_each_tab_gets_its_own_app_process_that_ends_with_the_tab(web, fake_server):
    server = web(*chat_args(fake_server))
    async with aiohttp.ClientSession() as session:
        one = await Tab.open(session, server.ws_url())
        two = await Tab.open(session, server.ws_url())
        await one.ready()
        await two.ready()
        assert len(await wait_for_processes(server.proc.pid, 2)) == 2
        await one.close()
        await wait_for_processes(server.proc.pid, 1)
        await two.close()
        await wait_for_processes(server.proc.pid, 0)
    assert server.stop() == 0


async def test_app_flags_apply_in_every_tab(web, fake_server):
    fake_server.enqueue(Script(chunks=["Bonjour", " tout", " le monde."]))
    server = web(*chat_args(fake_server, "--model", "web-model", "--system", "Speak French."))
    async with aiohttp.ClientSession() as session:
        tab = await Tab.open(session, server.ws_url())
        await tab.ready()
        assert "web-model" in tab.text()
        await tab.send("hello")
        await tab.wait_for("Bonjour tout le monde.")
        await tab.close()
    sent = fake_server.requests[-1].json
    assert sent["model"] == "web-model"
    assert sent["messages"][0] == {"role": "system", "content": "Speak French."}


async def test_a_browser_that_drops_the_connection_ends_its_app(web, fake_server):
    server = web(*chat_args(fake_server))
    async with aiohttp.ClientSession() as session:
        tab = await Tab.open(session, server.ws_url())
        await tab.ready()
        await wait_for_processes(server.proc.pid, 1)
        tab.ws._response.connection.transport.abort()  # no close frame: the tab just vanishes
        await wait_for_processes(server.proc.pid, 0)


async def test_an_app_that_will_not_quit_is_killed_when_its_tab_closes(web, fake_server):
    server = web(*chat_args(fake_server))
    async with aiohttp.ClientSession() as session:
        tab = await Tab.open(session, server.ws_url())
        await tab.ready()
        [app] = await wait_for_processes(server.proc.pid, 1)
        os.kill(app, signal.SIGSTOP)  # it can no longer read the request to quit
        await tab.ws.close()
        await wait_for_processes(server.proc.pid, 0)


async def test_stopping_the_server_ends_every_app(web, fake_server):
    server = web(*chat_args(fake_server))
    async with aiohttp.ClientSession() as session:
        tab = await Tab.open(session, server.ws_url())
        await tab.ready()
        [app] = await wait_for_processes(server.proc.pid, 1)
        assert await asyncio.to_thread(server.stop) == 0
        assert not Path(f"/proc/{app}").exists()


async def test_the_api_key_never_reaches_the_browser(web, fake_server_with_key):
    fake_server_with_key.enqueue(
        Script(chunks=["Keyed", " reply."]),
        Script(status=401, error_message=f"Incorrect API key provided: {FAKE_API_KEY}"),
    )
    env = {**os.environ, "OPENAI_API_KEY": FAKE_API_KEY}
    server = web(*chat_args(fake_server_with_key), env=env)
    async with aiohttp.ClientSession() as session:
        async with session.get(server.url) as page:
            html = await page.text()
            headers = str(page.headers)
        tab = await Tab.open(session, server.ws_url())
        await tab.ready()
        await tab.send("hello")
        await tab.wait_for("Keyed reply.")
        await tab.send("again")
        await tab.wait_for("401")
        await tab.close()
    assert fake_server_with_key.requests[0].headers["authorization"] == f"Bearer {FAKE_API_KEY}"
    secret = FAKE_API_KEY.encode()
    for seen in (html.encode(), headers.encode(), bytes(tab.received), tab.text().encode()):
        assert secret not in seen and b"0123456789abcdef" not in seen


async def test_a_killed_server_leaves_no_app_behind(web, fake_server):
    server = web(*chat_args(fake_server))
    async with aiohttp.ClientSession() as session:
        tab = await Tab.open(session, server.ws_url())
        await tab.ready()
        [app] = await wait_for_processes(server.proc.pid, 1)
        server.proc.kill()  # SIGKILL: no chance to stop its tabs
        server.proc.wait()
        deadline = time.monotonic() + 15
        try:
            while _state(app) not in ("gone", "Z"):
                assert time.monotonic() < deadline, "the app outlived its server"
                await asyncio.sleep(0.05)
        finally:
            if _state(app) != "gone":
                os.kill(app, signal.SIGKILL)  # an orphan: the fixture no longer finds it


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return "gone"


async def test_an_app_that_cannot_start_ends_its_tab_and_says_why(web):
    server = web("--api", "local", "--resume")  # no saved conversation to resume
    async with aiohttp.ClientSession() as session:
        tab = await Tab.open(session, server.ws_url())
        await asyncio.wait_for(tab._reader, 20)  # the server closes the websocket
    assert app_processes(server.proc.pid) == []
    assert "tab 1: tui-chat: error: no saved conversations yet" in server.stderr()


async def test_a_garbled_message_ends_the_tab_with_one_line(web, fake_server):
    server = web(*chat_args(fake_server))
    async with aiohttp.ClientSession() as session:
        tab = await Tab.open(session, server.ws_url())
        await tab.ready()
        await tab.ws.send_str("this is not JSON")
        await asyncio.wait_for(tab._reader, 20)  # the server closes the websocket
        await wait_for_processes(server.proc.pid, 0)
    lines = server.stderr().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tui-chat web: tab 1: closed: "), lines
