"""One exit-status rule for every command (README, "Exit status"): 2 for a usage error,
said in one line before anything runs; 1 for a failure while running; never 0 after a
failure."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

from console_script import TUI_CHAT

README = Path(__file__).resolve().parents[2] / "README.md"


def run(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TUI_CHAT_"))}
    env = {**base, "XDG_DATA_HOME": str(home / "data"), "XDG_CONFIG_HOME": str(home / "cfg")}
    return subprocess.run(
        [*TUI_CHAT, *args],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--resume", "99"], "no conversation 99"),
        (["--resume"], "no saved conversations"),
        (["--replay", str(README)], "is not a recording"),
        (["ask", "--replay", str(README), "hi"], "is not a recording"),
        (["history", "show", "abc"], "ids are numbers"),
        (["history", "show", "99"], "no conversation 99"),
        (["history", "export", "last"], "no saved conversations"),
        (["--speed", "2"], "--speed needs --replay"),
        (["ask", "--speed", "2", "hi"], "--speed needs --replay"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else None,
)
def test_a_usage_error_is_one_line_and_exit_2(tmp_path: Path, args: list[str], needle: str) -> None:
    result = run(*args, home=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert needle in result.stderr


def test_a_history_that_cannot_be_read_is_a_failure_and_exit_1(tmp_path: Path) -> None:
    path = tmp_path / "data" / "tui-chat" / "history.sqlite3"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a database" * 100)
    for args in (["--resume", "1"], ["history", "show", "1"]):
        result = run(*args, home=tmp_path)
        assert result.returncode == 1, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1


def test_ask_against_a_server_that_is_not_there_is_exit_1(
    tmp_path: Path, closed_port_url: str
) -> None:
    result = run("ask", "--api", "chat", "--base-url", closed_port_url, "hi", home=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""


def test_the_app_crashing_is_exit_1_not_0(tmp_path: Path) -> None:
    """The installed entry point, with a chat screen that raises as it mounts: Textual
    prints the traceback and stops; the process must not report success."""
    code = (
        "import sys\n"
        "from tui_chat.ui.screens.chat import ChatScreen\n"
        "async def broken(self):\n"
        "    raise RuntimeError('boom')\n"
        "ChatScreen.on_mount = broken\n"
        "from tui_chat.cli import main\n"
        "sys.exit(main(['--api', 'local', '--no-history']))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TUI_CHAT_"))}
    env.update(XDG_DATA_HOME=str(tmp_path / "d"), XDG_CONFIG_HOME=str(tmp_path / "c"))
    child = pexpect.spawn(
        sys.executable, ["-c", code], cwd=str(tmp_path), env=env, dimensions=(24, 80)
    )
    child.expect(pexpect.EOF, timeout=60)
    child.close()
    assert b"boom" in (child.before or b"")
    assert child.exitstatus == 1
