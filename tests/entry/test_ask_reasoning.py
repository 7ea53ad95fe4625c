"""`tui-chat ask` with a reasoning model: the answer alone on stdout, the reasoning on
stderr only with --show-reasoning; the installed console script against the fake server."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from console_script import TUI_CHAT
from fake_server import FakeLLMServer, Script

THINKING = Script(chunks=["Four."], reasoning=["Two and", " two."])


def ask(server: FakeLLMServer, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    return subprocess.run(
        [*TUI_CHAT, "ask", "--base-url", server.openai_url, *args, "2+2?"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=30,
    )


@pytest.mark.parametrize("api", ["chat", "responses"])
def test_ask_prints_only_the_answer_and_keeps_reasoning_off_stderr(
    fake_server: FakeLLMServer, tmp_path: Path, api: str
) -> None:
    fake_server.enqueue(THINKING)
    done = ask(fake_server, tmp_path, "--api", api)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Four.\n"
    assert "Two and" not in done.stderr


def test_show_reasoning_streams_it_to_stderr_and_the_answer_stays_alone_on_stdout(
    fake_server: FakeLLMServer, tmp_path: Path
) -> None:
    fake_server.enqueue(THINKING)
    done = ask(fake_server, tmp_path, "--api", "chat", "--show-reasoning")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Four.\n"
    assert done.stderr == "Two and two.\n"


def test_a_leading_think_tag_stays_off_stdout(fake_server: FakeLLMServer, tmp_path: Path) -> None:
    fake_server.enqueue(Script(chunks=["<think>hmm", "</think>", "Four."]))
    done = ask(fake_server, tmp_path, "--api", "chat")
    assert done.stdout == "Four.\n"


def test_a_refusal_is_printed_and_said_to_be_one(
    fake_server: FakeLLMServer, tmp_path: Path
) -> None:
    fake_server.enqueue(Script(chunks=["I can't help with that."], refusal=True))
    done = ask(fake_server, tmp_path, "--api", "responses")
    assert done.returncode == 0
    assert done.stdout == "I can't help with that.\n"
    assert "refused" in done.stderr and "empty" not in done.stderr


def test_reasoning_summary_flag_asks_the_responses_api_for_summaries(
    fake_server: FakeLLMServer, tmp_path: Path
) -> None:
    done = ask(fake_server, tmp_path, "--api", "responses", "--reasoning-summary")
    assert done.returncode == 0, done.stderr
    assert fake_server.requests[-1].json["reasoning"] == {"summary": "auto"}


@pytest.mark.parametrize("api", ["chat", "responses"])
def test_a_recorded_reasoning_reply_replays_its_reasoning_and_answer_apart(
    fake_server: FakeLLMServer, tmp_path: Path, api: str
) -> None:
    fake_server.enqueue(THINKING)
    recorded = ask(fake_server, tmp_path, "--api", api, "--record", str(tmp_path / "r.jsonl"))
    assert recorded.returncode == 0, recorded.stderr
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    replayed = subprocess.run(
        [*TUI_CHAT, "ask", "--replay", str(tmp_path / "r.jsonl"), "--show-reasoning", "2+2?"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=30,
    )
    assert replayed.returncode == 0, replayed.stderr
    assert replayed.stdout == "Four.\n"
    assert replayed.stderr == "Two and two.\n"


def test_a_recorded_chat_refusal_replays_as_a_refusal(
    fake_server: FakeLLMServer, tmp_path: Path
) -> None:
    fake_server.enqueue(Script(chunks=["No."], refusal=True))
    recording = str(tmp_path / "r.jsonl")
    assert ask(fake_server, tmp_path, "--api", "chat", "--record", recording).returncode == 0
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    replayed = subprocess.run(
        [*TUI_CHAT, "ask", "--replay", recording, "2+2?"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=30,
    )
    assert replayed.stdout == "No.\n" and "refused" in replayed.stderr
