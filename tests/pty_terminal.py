"""A pseudo-terminal read through a VT emulator, for the tests that run the installed
`tui-chat` (the e2e tests, and history's notices); top-level so any folder can import it."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pexpect
import pyte


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
