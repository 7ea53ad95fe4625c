"""Shared fixtures for the whole suite.

`fake_server` is the scripted fake LLM server from `tests/fake_server.py`: one real HTTP
server per session (starting one per test costs time), reset before every test so queued
scripts, recorded requests and `disconnected` never leak between tests.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # `from fake_server import ...` in any test

from fake_server import FakeLLMServer

#: The key `fake_server_with_key` demands; tests assert it never reaches a message.
FAKE_API_KEY = "sk-test-0123456789abcdef-SECRET"


@pytest.fixture(scope="session")
def _fake_server_session() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        yield server


@pytest.fixture(scope="session")
def _fake_server_with_key_session() -> Iterator[FakeLLMServer]:
    with FakeLLMServer(api_key=FAKE_API_KEY) as server:
        yield server


@pytest.fixture
def fake_server(_fake_server_session: FakeLLMServer) -> Iterator[FakeLLMServer]:
    """A running FakeLLMServer without auth, fresh for this test."""
    _fake_server_session.reset()
    yield _fake_server_session
    _fake_server_session.reset()


@pytest.fixture
def fake_server_with_key(_fake_server_with_key_session: FakeLLMServer) -> Iterator[FakeLLMServer]:
    """A running FakeLLMServer whose `/v1/*` endpoints demand `FAKE_API_KEY`."""
    _fake_server_with_key_session.reset()
    yield _fake_server_with_key_session
    _fake_server_with_key_session.reset()


@pytest.fixture
def closed_port_url() -> str:
    """A base URL on 127.0.0.1 where nothing listens (connection refused)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture(autouse=True)
def _isolated_user_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test reads or writes the real user's config, history or theme."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "TUI_CHAT_API", "TUI_CHAT_MODEL"):
        monkeypatch.delenv(name, raising=False)
