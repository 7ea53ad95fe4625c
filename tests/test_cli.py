"""The command line: flags, precedence (.env < environment < flags), one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tui_chat.cli import build_parser, settings_from_args
from tui_chat.config import Settings, load_dotenv_file, settings_from_env


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TUI_CHAT_"))}
    return subprocess.run(
        [sys.executable, "-m", "tui_chat", *args],
        cwd=cwd,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--api", "nope"], "invalid choice: 'nope'"),
        (["--base-url", "localhost:8000"], "invalid URL"),
        (["--model", ""], "must not be empty"),
        (["--temperature", "hot"], "is not a number"),
        (["--frobnicate"], "unrecognized arguments"),
    ],
)
def test_bad_flag_is_one_line_with_status_2(tmp_path: Path, args: list[str], needle: str) -> None:
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert needle in lines[0]
    assert "Traceback" not in result.stderr


def test_flags_override_environment() -> None:
    env = {
        "TUI_CHAT_API": "chat",
        "TUI_CHAT_MODEL": "env-model",
        "OPENAI_BASE_URL": "http://env:1/v1",
    }
    args = build_parser()["chat"].parse_args(
        ["--model", "flag-model", "--no-stream", "--no-history", "--system", "be brief"]
    )
    settings = settings_from_args(args, settings_from_env(env))
    assert settings.api == "chat"
    assert settings.model == "flag-model"
    assert settings.base_url == "http://env:1/v1"
    assert settings.stream is False and settings.history is False
    assert settings.system == "be brief"


def test_api_flag_marks_choice_explicit() -> None:
    assert settings_from_env({}).api_defaulted is True
    args = build_parser()["chat"].parse_args(["--api", "backend"])
    settings = settings_from_args(args, settings_from_env({}))
    assert settings.api == "backend" and settings.api_defaulted is False


def test_dotenv_never_overrides_real_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("TUI_CHAT_MODEL=from-dotenv\nTUI_CHAT_API=backend\n")
    monkeypatch.setenv("TUI_CHAT_MODEL", "from-env")
    monkeypatch.delenv("TUI_CHAT_API", raising=False)
    load_dotenv_file(tmp_path)
    settings = settings_from_env()
    assert settings.model == "from-env"
    assert settings.api == "backend"  # monkeypatch removes the .env value again on teardown


def test_settings_repr_never_shows_the_key() -> None:
    settings = Settings(api_key="sk-secret-123")
    assert "sk-secret-123" not in repr(settings)
    assert "sk-secret-123" not in str(settings)
