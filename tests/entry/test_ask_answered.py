"""`ask` says who answered (once, on stderr, only to a person at a terminal), and
`--help` shows the defaults that would run here, not the ones that run with a key."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from tui_chat.ask import run_ask
from tui_chat.cli import main
from tui_chat.settings.config import Settings

from fake_server import FakeLLMServer, Script


def settings_for(server: FakeLLMServer) -> Settings:
    return Settings(api="chat", base_url=server.openai_url, model="fake-model", api_key="k")


def test_ask_says_once_on_a_terminal_which_provider_and_model_answered(
    fake_server: FakeLLMServer,
) -> None:
    fake_server.enqueue(Script(chunks=["Hello", " there"]))
    leader, follower = os.openpty()
    stdout = io.StringIO()
    with open(follower, "w", encoding="utf-8", closefd=True) as stderr:
        status = run_ask(
            settings_for(fake_server), "hi", stdin=io.StringIO(), stdout=stdout, stderr=stderr
        )
    said = os.read(leader, 65536).decode()
    os.close(leader)
    assert status == 0
    assert stdout.getvalue() == "Hello there\n", "stdout carries the reply alone"
    host = fake_server.openai_url.split("//")[1].split("/")[0]
    assert said.splitlines() == [f"tui-chat: answered by chat · fake-model · {host}"]


def test_ask_says_nothing_more_when_stderr_is_not_a_terminal(fake_server: FakeLLMServer) -> None:
    fake_server.enqueue(Script(chunks=["Hello"]))
    stderr = io.StringIO()
    status = run_ask(
        settings_for(fake_server), "hi", stdin=io.StringIO(), stdout=io.StringIO(), stderr=stderr
    )
    assert status == 0
    assert stderr.getvalue() == ""


@pytest.mark.parametrize(
    ("key", "api", "model"),
    [(None, "local", "SmolLM2-135M"), ("sk-test", "responses", "gpt-4o-mini")],
    ids=["no key", "a key"],
)
def test_help_shows_the_provider_and_model_that_would_run_here(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    key: str | None,
    api: str,
    model: str,
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env
    if key:
        monkeypatch.setenv("OPENAI_API_KEY", key)
    for command in (["ask", "--help"], ["--help"]):
        with pytest.raises(SystemExit) as exited:
            main(command)
        assert exited.value.code == 0
        shown = " ".join(capsys.readouterr().out.split())
        assert f"here: {api}" in shown
        assert f"model name (default here: {model}" in shown
        if not key:
            assert "default: gpt-4o-mini)" not in shown
