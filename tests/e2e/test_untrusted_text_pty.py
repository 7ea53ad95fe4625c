"""Server text with escape sequences and bidi controls never reaches the terminal raw.

A hostile OpenAI-compatible server (real HTTP on 127.0.0.1) puts OSC 52 (clipboard),
OSC 0 (window title), CSI 2J (clear screen) and a right-to-left override into a reply,
a model id and an error reason. The installed `tui-chat` runs in a real pty and every
byte it writes is kept, so the assertions are about what the terminal received.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pexpect
import pyte
import pytest

CLIPBOARD = "\x1b]52;c;cHduZWQ=\x07"  # base64 "pwned"
TITLE = "\x1b]0;PWNED\x07"
CLEAR = "AA\x1b[2JBB"
RLO = "\u202e"
EVIL = f"{CLIPBOARD}{TITLE}{CLEAR}{RLO}"
EVIL_MODEL = f"evil{TITLE}{CLIPBOARD}-model"
#: What must never appear in the bytes the app writes.
FORBIDDEN = (b"\x1b]52;c;cHduZWQ", b"\x1b]0;PWNED", b"\x1b[2JBB", RLO.encode())


class _Hostile(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _json(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path.startswith("/broken/"):
            error = {"message": f"models are gone {EVIL}", "type": "server_error"}
            self._json(400, {"error": error})
            return
        models = [
            {"id": m, "object": "model", "created": 0, "owned_by": "x"}
            for m in ("ok-model", EVIL_MODEL)
        ]
        self._json(200, {"object": "list", "data": models})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        self.rfile.read(length)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        for text in ("Hostile ", f"reply {EVIL} ", "ends here."):
            chunk = {
                "id": "c",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": "m",
                "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}],
            }
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()
        self.close_connection = True


@pytest.fixture
def hostile_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class RawTerminal:
    """A pty that keeps every byte the app wrote, and a pyte screen to wait on."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.raw = bytearray()
        self.screen = pyte.Screen(100, 30)
        self._stream = pyte.ByteStream(self.screen)
        self.child = pexpect.spawn(argv[0], argv[1:], cwd=str(cwd), env=env, dimensions=(30, 100))

    def text(self) -> str:
        return "\n".join(self.screen.display)

    def wait_for(self, condition: Callable[[str], bool], timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                data = self.child.read_nonblocking(65536, timeout=0.1)
            except pexpect.TIMEOUT:
                data = b""
            self.raw += data
            self._stream.feed(data)
            if condition(self.text()):
                return self.text()
        raise AssertionError(f"screen never matched; it shows:\n{self.text()}")

    def close(self) -> None:
        if self.child.isalive():
            self.child.terminate(force=True)


def _env(home: Path) -> dict[str, str]:
    keep = ("PATH", "LANG", "LC_ALL", "PYTHONPATH", "VIRTUAL_ENV", "PYENV_VERSION", "PYENV_ROOT")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(HOME=str(home), TERM="xterm-256color", COLORTERM="truecolor", LANG="C.UTF-8")
    return env


def _forbidden_in(raw: bytes) -> list[bytes]:
    return [needle for needle in FORBIDDEN if needle in raw]


def _start(url: str, tmp_path: Path) -> RawTerminal:
    exe = shutil.which("tui-chat")
    assert exe, "the tui-chat console script is installed (pip install -e .)"
    argv = [exe, "--api", "chat", "--base-url", url, "--model", "m", "--no-history"]
    return RawTerminal(argv, tmp_path, _env(tmp_path))


def _switch_model(term: RawTerminal) -> None:
    term.child.sendcontrol("p")
    term.wait_for(lambda s: "Search for commands" in s)
    term.child.send("Switch model")
    term.wait_for(lambda s: "Use another model from now on" in s)  # the hit, not the typing
    term.child.send("\r")


def test_escape_sequences_in_a_reply_and_a_model_id_never_reach_the_terminal(
    hostile_url: str, tmp_path: Path
) -> None:
    term = _start(f"{hostile_url}/v1", tmp_path)
    try:
        term.wait_for(lambda s: "Enter sends" in s)
        term.child.send("hello\r")
        screen = term.wait_for(lambda s: "ends here." in s and "tok/s" in s)
        assert "AABB" in screen, "the text around the sequence is shown, the sequence is not"
        _switch_model(term)
        term.wait_for(lambda s: "ok-model" in s and "evil" in s)
        term.child.send("evil")
        term.wait_for(lambda s: "Switch to which model?" not in s or "evil" in s)
        term.child.send("\r")
        screen = term.wait_for(lambda s: "Model: evil" in s)
        assert "evil-model" in screen.replace(" ", "")
    finally:
        term.close()
    assert len(term.raw) > 1000, "the app drew something"
    assert _forbidden_in(bytes(term.raw)) == []


def test_escape_sequences_in_a_server_error_toast_never_reach_the_terminal(
    hostile_url: str, tmp_path: Path
) -> None:
    term = _start(f"{hostile_url}/broken/v1", tmp_path)
    try:
        term.wait_for(lambda s: "Enter sends" in s)
        _switch_model(term)
        screen = term.wait_for(lambda s: "Could not list models" in s, timeout=30)
        assert "models are gone" in screen
    finally:
        term.close()
    assert _forbidden_in(bytes(term.raw)) == []


def test_ask_prints_a_hostile_reply_without_its_sequences(hostile_url: str, tmp_path: Path) -> None:
    import subprocess

    exe = shutil.which("tui-chat")
    assert exe
    argv = [exe, "ask", "--api", "chat", "--base-url", f"{hostile_url}/v1", "--model", "m", "hi"]
    done = subprocess.run(argv, capture_output=True, env=_env(tmp_path), timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert b"Hostile reply" in done.stdout and b"AABB" in done.stdout
    assert _forbidden_in(done.stdout + done.stderr) == []


def test_history_show_and_list_print_stored_text_without_bidi_or_sequences(
    tmp_path: Path,
) -> None:
    import subprocess

    from tui_chat.history import HistoryStore

    env = _env(tmp_path)
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    path = tmp_path / "data" / "tui-chat" / "history.sqlite3"
    path.parent.mkdir(parents=True)
    with HistoryStore.open(path) as store:
        conversation = store.new_conversation(
            api="chat", base_url=None, model=EVIL_MODEL, system=None
        )
        store.add_message(conversation, "user", f"title {EVIL}")
        store.add_message(conversation, "assistant", f"stored {EVIL} reply")
    exe = shutil.which("tui-chat")
    assert exe
    for argv in (["history", "show", str(conversation)], ["history", "list"]):
        done = subprocess.run([exe, *argv], capture_output=True, env=env, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        assert b"AABB" in done.stdout
        assert _forbidden_in(done.stdout) == [], argv
