"""The installed `tui-chat` console script in a real pseudo-terminal, read through a VT emulator."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pexpect
import pyte
import pytest

from fake_server import FakeLLMServer, Script


class Terminal:
    """An 80x24 pseudo-terminal running a command, with its screen emulated by pyte."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.screen = pyte.Screen(80, 24)
        self._stream = pyte.Stream(self.screen)
        self.child = pexpect.spawn(
            argv[0], argv[1:], cwd=str(cwd), env=env, dimensions=(24, 80), encoding="utf-8"
        )

    def text(self) -> str:
        return "\n".join(self.screen.display)

    def pump(self, seconds: float = 0.1) -> None:
        try:
            self._stream.feed(self.child.read_nonblocking(65536, timeout=seconds))
        except pexpect.TIMEOUT:
            pass

    def wait_for(self, condition: Callable[[str], bool], timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.pump()
            if condition(self.text()):
                return self.text()
        raise AssertionError(f"screen never matched; it shows:\n{self.text()}")

    def close(self) -> None:
        if self.child.isalive():
            self.child.terminate(force=True)


@pytest.fixture
def terminal_env(tmp_path: Path) -> dict[str, str]:
    keep = ("PATH", "LANG", "LC_ALL", "PYTHONPATH", "VIRTUAL_ENV", "PYENV_VERSION", "PYENV_ROOT")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(HOME=str(tmp_path), TERM="xterm-256color", COLORTERM="truecolor")
    env.setdefault("LANG", "C.UTF-8")
    return env


def test_installed_tui_chat_streams_a_reply_in_a_pty(
    fake_server: FakeLLMServer, tmp_path: Path, terminal_env: dict[str, str]
) -> None:
    exe = shutil.which("tui-chat")
    assert exe, "the tui-chat console script is installed (pip install -e .)"
    fake_server.enqueue(Script(chunks=["Streaming ", "over ", "a ", "real ", "pty."], hold_after=2))
    argv = [exe, "--api", "chat", "--base-url", fake_server.openai_url, "--model", "fake-model"]
    term = Terminal(argv, tmp_path, terminal_env)
    try:
        screen = term.wait_for(lambda s: "Enter sends" in s)
        assert "chat · fake-model" in screen and "streaming on" in screen
        term.child.send("hello from the pty")
        term.child.send("\r")
        screen = term.wait_for(lambda s: "Streaming over" in s)
        assert "pty." not in screen, "the rest is still held by the server"
        assert "hello from the pty" in screen
        fake_server.release()
        screen = term.wait_for(lambda s: "Streaming over a real pty." in s and "tok/s" in s)
        assert fake_server.requests[0].json["messages"][-1] == {
            "role": "user",
            "content": "hello from the pty",
        }
        term.child.sendcontrol("q")
        term.child.expect(pexpect.EOF, timeout=10)
    finally:
        term.close()
