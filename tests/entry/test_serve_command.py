"""`tui-chat serve` as the installed command: binding, the listening line, its flags and
what reaches its terminal.

Each test runs the console script as a subprocess in front of the fake LLM server, with
an explicit environment and a temporary working directory (no stray `.env`).
"""

from __future__ import annotations

import os
import re
import select
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from console_script import TUI_CHAT
from fake_server import FakeLLMServer, Script

#: What a hostile upstream might put in an error: OSC 52 (clipboard), OSC 0 (title),
#: CSI 2J (clear screen), a C1 CSI, and a right-to-left override (Trojan Source).
HOSTILE = "boom \x1b]52;c;aGFja2Vk\x07 \x1b]0;owned\x07 \x1b[2J \x9b31m \u202eevil\u202c end"
LISTENING = re.compile(rb"listening on (http://\S+?:(\d+))\b")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "LANG": "C.UTF-8",
    }


def serve_args(upstream: FakeLLMServer, *args: str) -> list[str]:
    base = ["--api", "chat", "--base-url", upstream.openai_url, "--model", "fake-model"]
    return [*TUI_CHAT, "serve", *base, *args]


def run_serve(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """A serve run that is expected to end by itself (bad flags, bind failures)."""
    return subprocess.run(
        args,
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )


class Served:
    """A running serve process; `stderr` holds every byte it wrote there once stopped."""

    def __init__(self, proc: subprocess.Popen[bytes], url: str) -> None:
        self.proc = proc
        self.url = url
        self.stdout = b""
        self.stderr = b""


def _read_line(proc: subprocess.Popen[bytes], timeout: float = 20) -> bytes:
    """The first line of the child's stdout, without blocking forever if it never comes."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    data = b""
    deadline = time.monotonic() + timeout
    while b"\n" not in data:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no line on stdout within {timeout} s; got {data!r}"
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            chunk = os.read(fd, 4096)
            assert chunk, f"stdout closed before a line; got {data!r}"
            data += chunk
    return data


@contextmanager
def serving(
    upstream: FakeLLMServer, *args: str, env: dict[str, str], cwd: Path
) -> Iterator[Served]:
    """Start `tui-chat serve --port 0 ...`, yield it with the URL it says it listens on,
    then stop it with Ctrl+C and collect its output."""
    proc = subprocess.Popen(
        serve_args(upstream, "--port", "0", *args),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=cwd,
    )
    try:
        first = _read_line(proc)
        found = LISTENING.search(first)
        assert found, first
        served = Served(proc, found.group(1).decode())
        served.stdout = first
        yield served
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
    served.stdout += out
    served.stderr = err


# -- binding (item 13) ---------------------------------------------------------------------


def test_port_0_prints_the_port_really_bound(
    fake_server: FakeLLMServer, env: dict[str, str], tmp_path: Path
) -> None:
    with serving(fake_server, env=env, cwd=tmp_path) as served:
        port = int(served.url.rsplit(":", 1)[1])
        assert port != 0, served.stdout
        response = httpx.get(served.url + "/", timeout=10)
        assert response.text == "Backend is running successfully."
    assert served.stdout.count(b"listening on") == 1
    assert served.proc.returncode == 0  # Ctrl+C is a normal stop


def test_busy_port_is_one_line_and_exit_2(
    fake_server: FakeLLMServer, env: dict[str, str], tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_serve(serve_args(fake_server, "--port", str(port)), env, tmp_path)
    assert result.returncode == 2, result
    assert result.stdout == ""  # no "listening" line before the failure
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert f"127.0.0.1:{port}" in lines[0]
    assert "in use" in lines[0]


def test_address_not_on_this_machine_is_one_line_and_exit_2(
    fake_server: FakeLLMServer, env: dict[str, str], tmp_path: Path
) -> None:
    """192.0.2.1 is TEST-NET-1: no machine has it, so binding fails at once."""
    args = serve_args(fake_server, "--host", "192.0.2.1", "--port", "0")
    result = run_serve(args, env, tmp_path)
    assert result.returncode == 2, result
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "192.0.2.1:0" in lines[0]
    assert "assign" in lines[0].lower()  # "Cannot assign requested address"


# -- --max-body (item 12) ------------------------------------------------------------------


@pytest.mark.parametrize("value", ["abc", "0", "-5", "1.5", ""])
def test_bad_max_body_is_one_line_and_exit_2(
    fake_server: FakeLLMServer, env: dict[str, str], tmp_path: Path, value: str
) -> None:
    result = run_serve(serve_args(fake_server, "--max-body", value), env, tmp_path)
    assert result.returncode == 2, result
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "argument --max-body:" in lines[0]  # the value was checked, not an unknown flag
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_max_body_flag_sets_the_request_size_limit(
    fake_server: FakeLLMServer, env: dict[str, str], tmp_path: Path
) -> None:
    small = b'{"message": "hi"}'
    large = b'{"message": "' + b"x" * 100 + b'"}'
    headers = {"Content-Type": "application/json"}
    with serving(fake_server, "--max-body", "64", env=env, cwd=tmp_path) as served:
        ok = httpx.post(served.url + "/api/chat", content=small, headers=headers, timeout=10)
        too_big = httpx.post(served.url + "/api/chat", content=large, headers=headers, timeout=10)
    assert ok.status_code == 200, ok.text
    assert too_big.status_code == 413
    assert "64" in too_big.json()["error"]


# -- untrusted text on serve's stderr (item 9) ---------------------------------------------


def test_upstream_error_text_reaches_stderr_without_control_codes(
    fake_server: FakeLLMServer, env: dict[str, str], tmp_path: Path
) -> None:
    fake_server.enqueue(
        Script(status=400, error_message=HOSTILE),  # /api/chat: refused outright
        Script(status=400, error_message=HOSTILE),  # /api/chat/stream: before any text
        Script(chunks=["par", "tial", "x"], fault="error_event", error_message=HOSTILE),
    )
    body = {"message": "hi"}
    with serving(fake_server, env=env, cwd=tmp_path) as served:
        whole = httpx.post(served.url + "/api/chat", json=body, timeout=10)
        early = httpx.post(served.url + "/api/chat/stream", json=body, timeout=10)
        late = httpx.post(served.url + "/api/chat/stream", json=body, timeout=10)
    assert (whole.status_code, early.status_code, late.status_code) == (500, 500, 200)
    err = served.stderr
    text = err.decode("utf-8")
    assert err.count(b"evil") == 3, text  # every failure is logged, with its text
    assert b"\x1b" not in err and b"\x07" not in err, text
    assert "\x9b" not in text
    assert "\u202e" not in text and "\u202c" not in text
    assert "Traceback" not in text
