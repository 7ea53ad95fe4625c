"""Ctrl+O inside tmux, against a real tmux server the test starts on its own socket
(`-L`): the text lands in a tmux buffer, tmux hands it to an attached terminal, and the
toast says exactly what happened and which tmux option enables the rest."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pexpect
import pytest

from tui_chat.ui.app import ChatApp

from .app_factory import make_app, replies, send, wait_for
from fake_server import FakeLLMServer, Script

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")

REPLY = "copy me ✓ from tmux"


@dataclass
class Tmux:
    name: str
    socket: str

    def __call__(self, *args: str) -> str:
        env = {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE")}
        done = subprocess.run(
            ["tmux", "-L", self.name, *args],
            capture_output=True,
            text=True,
            timeout=10,
            env=env,
            check=True,
        )
        return done.stdout


@pytest.fixture
def tmux(monkeypatch: pytest.MonkeyPatch) -> Iterator[Tmux]:
    """A tmux server of the test's own, with tmux's defaults (no config file), which
    the app finds through $TMUX as it would inside it."""
    name = f"tui-chat-test-{os.getpid()}-{time.monotonic_ns()}"
    server = Tmux(name, "")
    server("-f", "/dev/null", "new-session", "-d", "-x", "80", "-y", "24", "sleep 300")
    server.socket = server("display-message", "-p", "#{socket_path}").strip()
    monkeypatch.setenv("TMUX", f"{server.socket},0,0")
    monkeypatch.delenv("TMUX_PANE", raising=False)
    try:
        yield server
    finally:
        subprocess.run(["tmux", "-L", name, "kill-server"], capture_output=True, timeout=10)
        if server.socket:  # tmux leaves its socket file behind
            Path(server.socket).unlink(missing_ok=True)


def attach(tmux: Tmux, term: str) -> pexpect.spawn:
    """A terminal attached to the server, as the user's would be."""
    env = {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE")}
    client = pexpect.spawn(
        "tmux", ["-L", tmux.name, "attach"], env={**env, "TERM": term}, dimensions=(24, 80)
    )
    deadline = time.monotonic() + 10
    while tmux("display-message", "-p", "#{session_attached}").strip() == "0":
        assert time.monotonic() < deadline, "the client never attached"
        time.sleep(0.05)
    return client


def drain(client: pexpect.spawn, seconds: float = 1.0) -> bytes:
    seen = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            seen += client.read_nonblocking(65536, timeout=0.1)
        except pexpect.TIMEOUT:
            pass
    return seen


async def copy_a_reply(app: ChatApp, server: FakeLLMServer) -> tuple[str, str]:
    """Send, wait, Ctrl+O; the toast's message and severity."""
    server.enqueue(Script(chunks=["copy me ✓", " from tmux"]))
    async with app.run_test() as pilot:
        await send(pilot, "hi")
        await wait_for(pilot, lambda: replies(app)[0].status == "complete")
        await pilot.press("ctrl+o")
        await wait_for(
            pilot, lambda: any("the last reply" in n.message for n in app._notifications)
        )
        (toast,) = [n for n in app._notifications if "the last reply" in n.message]
        return toast.message, toast.severity


async def test_ctrl_o_in_tmux_reaches_the_attached_terminal_through_a_tmux_buffer(
    fake_server: FakeLLMServer, tmux: Tmux
) -> None:
    client = attach(tmux, "xterm-256color")
    drain(client, 0.5)
    message, severity = await copy_a_reply(make_app(fake_server), fake_server)
    assert tmux("show-buffer") == REPLY
    payload = base64.b64encode(REPLY.encode()).decode().encode()
    assert b"\x1b]52;" in (seen := drain(client)) and payload in seen, "tmux passed it on"
    assert "into a tmux buffer" in message and "passed it on to your terminal" in message
    assert severity == "information"
    client.terminate(force=True)


async def test_tmux_with_set_clipboard_off_says_so_and_how_to_enable_it(
    fake_server: FakeLLMServer, tmux: Tmux
) -> None:
    tmux("set-option", "-g", "set-clipboard", "off")
    message, severity = await copy_a_reply(make_app(fake_server), fake_server)
    assert tmux("show-buffer") == REPLY
    assert "not to your terminal's clipboard" in message
    assert "tmux set -g set-clipboard external" in message
    assert severity == "warning"


async def test_a_terminal_tmux_does_not_send_osc52_to_is_named_with_the_fix(
    fake_server: FakeLLMServer, tmux: Tmux
) -> None:
    client = attach(tmux, "linux")
    message, severity = await copy_a_reply(make_app(fake_server), fake_server)
    assert tmux("show-buffer") == REPLY
    assert "tmux does not know linux takes OSC 52" in message
    assert "terminal-features ',linux:clipboard'" in message
    assert severity == "warning"
    client.terminate(force=True)


async def test_no_terminal_attached_to_tmux_is_said(fake_server: FakeLLMServer, tmux: Tmux) -> None:
    message, _ = await copy_a_reply(make_app(fake_server), fake_server)
    assert tmux("show-buffer") == REPLY
    assert "no terminal is attached" in message


async def test_a_tmux_that_does_not_answer_is_never_called_copied(
    fake_server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.setenv("TMUX", f"{tmp_path}/no-such-socket,0,0")
    message, severity = await copy_a_reply(make_app(fake_server), fake_server)
    assert not message.startswith("Copied")
    assert "tmux load-buffer failed" in message and "allow-passthrough on" in message
    assert severity == "error"
