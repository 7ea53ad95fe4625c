"""`tui-chat web`: the chat app in browser tabs, one app process per tab, via textual-serve.

textual-serve 1.1 brings the page, its xterm.js client and the pipe protocol to a Textual
app run under its WebDriver. What it lacks is put around it here, because whoever opens
the page chats with the server's API key:

- No authentication at all: every route but `/static/` needs the token (the page takes
  it as `?token=`, the websocket in its path), else 403, before textual-serve sees it.
- It builds the page's URLs from the address it binds (`ws://0.0.0.0:8000/ws` when bound
  to every address): here they follow the `Host` the browser used.
- The page loads a Google font; a Content-Security-Policy keeps it (and any other
  third party) out, so nothing leaves for elsewhere, not even the page's address.
- It starts the app through a shell and, when a tab goes, asks it to quit and waits
  forever: here the app is exec'd directly, and killed if it has not quit in
  `QUIT_GRACE` seconds, so no tab leaves a process behind; nor does a server that is
  killed outright (`LAUNCHER`).
- It writes the app's stderr raw to stdout: here it goes to stderr, line by line,
  through `clean`.

The API key stays in the app processes' environment; the browser gets the page, the
static files and the app's screen output, which shows no key.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import os
import shlex
import signal
import socket
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

from tui_chat.core.listening import listen
from tui_chat.core.sanitize import clean

QUIT_GRACE = 3.0  # seconds an app gets to quit after its tab closes, before it is killed
BACKLOG = 64
FORBIDDEN = "403: Forbidden. Open the address `tui-chat web` printed: it carries the token.\n"
#: textual-serve's page runs inline script and styles; everything else comes from here.
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self' {ws}; frame-ancestors 'none'"
)


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def is_loopback(host: str) -> bool:
    """Only the machine itself can reach it (a name other than localhost may resolve
    anywhere, so it counts as not)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class TabApp(AppService):
    """One tab's app process: exec'd (no shell in between), killed if it will not quit."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        on_stderr: Callable[[str], None],
        **kwargs: Any,
    ) -> None:
        super().__init__(shlex.join(argv), **kwargs)
        self.argv = list(argv)
        self._on_stderr = on_stderr
        self._stderr_task: asyncio.Task[None] | None = None
        self._stopping: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    async def _open_app_process(self, width: int = 80, height: int = 24) -> Any:
        self._process = process = await asyncio.create_subprocess_exec(
            *self.argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self._build_environment(width=width, height=height),
        )
        assert process.stdin is not None and process.stderr is not None
        self._stdin = process.stdin
        # textual-serve would copy stderr raw to stdout once the app ends; it gets an
        # empty stream and the real one is relayed, cleaned, as it comes.
        self._stderr_task = asyncio.create_task(self._relay_stderr(process.stderr))
        empty = asyncio.StreamReader()
        empty.feed_eof()
        process.stderr = empty
        return process

    async def _relay_stderr(self, stream: asyncio.StreamReader) -> None:
        async for line in stream:
            text = clean(line.decode("utf-8", "replace")).rstrip()
            if text:
                self._on_stderr(text)

    async def run(self) -> None:
        await super().run()
        # The app ended (quit, or crashed): the tab says "Session ended" instead of
        # showing a screen nobody drives any more.
        try:
            await self.remote_close()
        except Exception:
            pass

    async def stop(self) -> None:
        """Idempotent, and safe to call from the tab's handler and the shutdown at once."""
        if self._stopping is None:
            self._stopping = asyncio.ensure_future(self._stop())
        await asyncio.shield(self._stopping)

    async def _stop(self) -> None:
        process, task = self._process, self._task
        if process is None:
            return
        try:
            if process.returncode is None:  # a stuck app's full pipe must not hang this
                await asyncio.wait_for(self.send_meta({"type": "quit"}), QUIT_GRACE)
            await asyncio.wait_for(process.wait(), QUIT_GRACE)
        except TimeoutError:
            process.kill()
            await process.wait()
        for pending in (task, self._stderr_task):
            if pending is not None:
                try:
                    await asyncio.wait_for(pending, QUIT_GRACE)
                except TimeoutError:
                    pending.cancel()
        self._task = None


class WebServer(Server):
    """textual-serve's Server with a token in front and one `TabApp` per websocket."""

    def __init__(self, argv: Sequence[str], token: str) -> None:
        super().__init__(shlex.join(argv), title="tui-chat")
        self.argv = list(argv)
        self.token = token
        self.tabs: set[TabApp] = set()
        self._tab_count = 0

    def allowed(self, request: web.Request) -> bool:
        if request.path.startswith("/static/"):
            return True
        if request.path == "/":
            given = request.query.get("token", "")
        else:
            given = request.match_info.get("token", "")
        return hmac.compare_digest(given.encode(), self.token.encode())

    @web.middleware
    async def guard(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        if not self.allowed(request):
            return web.Response(status=403, text=FORBIDDEN)
        response = await handler(request)
        if not response.prepared:  # a websocket's headers are long gone
            response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response

    async def _make_app(self) -> web.Application:
        app = web.Application(middlewares=[self.guard])
        aiohttp_jinja2.setup(
            app, loader=jinja2.FileSystemLoader(self.templates_path), autoescape=True
        )
        app.add_routes(
            [
                web.get("/", self.handle_index, name="index"),
                web.get("/ws/{token}", self.handle_websocket, name="websocket"),
                web.static("/static", self.statics_path, name="static"),
            ]
        )
        return app

    async def handle_index(self, request: web.Request) -> web.Response:  # type: ignore[override]
        ws = f"{'wss' if request.secure else 'ws'}://{request.host}"
        context = {
            "font_size": to_int(request.query.get("fontsize", "16"), 16),
            "app_websocket_url": f"{ws}/ws/{self.token}",
            "config": {"static": {"url": "/static/"}},
            "application": {"name": self.title},
        }
        response = aiohttp_jinja2.render_template("app_index.html", request, context)
        response.headers["Content-Security-Policy"] = CSP.format(ws=ws)
        response.headers["Cache-Control"] = "no-store"
        return response

    def _stderr_writer(self) -> Callable[[str], None]:
        self._tab_count += 1
        prefix = f"tui-chat web: tab {self._tab_count}: "
        return lambda line: print(prefix + line, file=sys.stderr, flush=True)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """One tab: its app lives exactly as long as its websocket."""
        websocket = web.WebSocketResponse(heartbeat=15)
        width = to_int(request.query.get("width", "80"), 80)
        height = to_int(request.query.get("height", "24"), 24)
        await websocket.prepare(request)
        say = self._stderr_writer()
        tab = TabApp(
            self.argv,
            on_stderr=say,
            write_bytes=websocket.send_bytes,
            write_str=websocket.send_str,
            close=websocket.close,
            download_manager=self.download_manager,
        )
        self.tabs.add(tab)
        try:
            await tab.start(width, height)
            await self._process_messages(websocket, tab)
        except ConnectionResetError:
            pass  # the browser went away: its app ends below
        except Exception as error:  # not textual-serve's protocol: one line, and the tab ends
            say(clean(f"closed: {type(error).__name__}: {error}"))
        finally:
            await tab.stop()
            self.tabs.discard(tab)
            await websocket.close()
        return websocket

    async def stop_tabs(self) -> None:
        await asyncio.gather(*(tab.stop() for tab in list(self.tabs)))


#: Each tab's process runs this first. A server killed outright (SIGKILL, OOM) cannot
#: stop its tabs, and an app whose input pipe closes keeps running, so on Linux the
#: kernel sends it SIGTERM when the server dies (PR_SET_PDEATHSIG, kept across exec).
LAUNCHER = """
import ctypes, os, signal, sys
try:
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1: PR_SET_PDEATHSIG
except (OSError, AttributeError):
    pass
if os.getppid() != int(sys.argv[1]):
    sys.exit(0)  # the server died before the line above
from tui_chat.cli import main
sys.exit(main(sys.argv[2:]))
"""


def app_command(app_argv: Sequence[str]) -> list[str]:
    """What each tab runs: this interpreter's tui-chat, with the app flags as given."""
    return [sys.executable, "-c", LAUNCHER, str(os.getpid()), *app_argv]


async def _serve(server: WebServer, sock: socket.socket, url: str) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    runner = web.AppRunner(await server._make_app(), access_log=None, handle_signals=False)
    await runner.setup()
    try:
        await web.SockSite(runner, sock).start()
        # Only now: whoever reads the line can open the page, and Ctrl+C is a clean stop.
        print(f"tui-chat web: open {url}", flush=True)
        await stop.wait()
    finally:
        await server.stop_tabs()
        await runner.cleanup()


def run_web(app_argv: Sequence[str], host: str, port: int, token: str) -> int:
    """Run `tui-chat web` until Ctrl+C; returns the exit status."""
    try:
        sock = listen(host, port, BACKLOG)
        sock.setblocking(False)
    except OSError as exc:  # gaierror (unknown host) included
        reason = exc.strerror or str(exc)
        where = clean(_host_port(host, port))
        print(f"tui-chat web: error: cannot listen on {where}: {reason}", file=sys.stderr)
        return 2
    bound_host, bound_port = sock.getsockname()[:2]
    if not is_loopback(host):
        print(
            clean(
                f"tui-chat web: warning: listening on {_host_port(host, bound_port)}, not "
                "only this machine: anyone who reaches the port with the URL chats with your key"
            ),
            file=sys.stderr,
            flush=True,
        )
    url = clean(f"http://{_host_port(bound_host, bound_port)}/?token={token}")
    server = WebServer(app_command(app_argv), token)
    asyncio.run(_serve(server, sock, url))
    return 0
