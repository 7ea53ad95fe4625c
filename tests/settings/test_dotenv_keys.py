"""A `.env` can come with a cloned repository: it must not send the real key elsewhere.

A key from the real environment goes only to a base URL from the real environment, a
flag, a profile or the provider's default; a base URL from `.env` gets only a key from
that same `.env`. Withholding a key is said in one line.
"""

from __future__ import annotations

import io
import os
import select
import subprocess
import time
from pathlib import Path

import pytest

from tui_chat.cli import build_parser, main, resolve_settings
from tui_chat.settings.config import Settings
from tui_chat.settings.profiles import load_config

from conftest import FAKE_API_KEY
from console_script import TUI_CHAT
from fake_server import FakeLLMServer, Script


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "NO_COLOR": "1",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        **extra,
    }


def ask(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TUI_CHAT, "ask", "--api", "chat", *args, "hi"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=30,
    )


def sent_keys(server: FakeLLMServer) -> list[str]:
    return [r.headers.get("authorization", "") for r in server.requests]


def resolved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *argv: str) -> Settings:
    """Settings as `tui-chat` resolves them in `tmp_path`, with its `.env`."""
    from tui_chat.settings.config import load_environment

    monkeypatch.chdir(tmp_path)
    args = build_parser()["chat"].parse_args(list(argv))
    return resolve_settings(args, load_environment(), load_config(tmp_path / "config.toml"))


def test_ask_does_not_send_the_real_key_to_a_base_url_from_dotenv(
    fake_server_with_key: FakeLLMServer, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text(f"OPENAI_BASE_URL={fake_server_with_key.openai_url}\n")
    fake_server_with_key.enqueue(Script(chunks=["should not be reached with the key"]))
    result = ask(tmp_path, clean_env(tmp_path, OPENAI_API_KEY=FAKE_API_KEY))
    assert sent_keys(fake_server_with_key), "the request should still go out, keyless"
    assert all(FAKE_API_KEY not in key for key in sent_keys(fake_server_with_key))
    notice = [line for line in result.stderr.splitlines() if "Not sending" in line]
    assert len(notice) == 1, result.stderr
    assert "OPENAI_API_KEY" in notice[0] and "./.env" in notice[0] and "--base-url" in notice[0]
    assert fake_server_with_key.openai_url in notice[0]
    assert FAKE_API_KEY not in result.stderr + result.stdout


def test_a_key_and_base_url_both_from_dotenv_go_together(
    fake_server_with_key: FakeLLMServer, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text(
        f"OPENAI_BASE_URL={fake_server_with_key.openai_url}\nOPENAI_API_KEY={FAKE_API_KEY}\n"
    )
    fake_server_with_key.enqueue(Script(chunks=["ok"]))
    result = ask(tmp_path, clean_env(tmp_path))
    assert (result.returncode, result.stdout) == (0, "ok\n"), result.stderr
    assert sent_keys(fake_server_with_key) == [f"Bearer {FAKE_API_KEY}"]
    assert "Not sending" not in result.stderr


def test_a_base_url_flag_beats_dotenv_and_gets_the_real_key(
    fake_server_with_key: FakeLLMServer, closed_port_url: str, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text(f"OPENAI_BASE_URL={closed_port_url}/v1\n")
    fake_server_with_key.enqueue(Script(chunks=["ok"]))
    env = clean_env(tmp_path, OPENAI_API_KEY=FAKE_API_KEY)
    result = ask(tmp_path, env, "--base-url", fake_server_with_key.openai_url)
    assert (result.returncode, result.stdout) == (0, "ok\n"), result.stderr
    assert sent_keys(fake_server_with_key) == [f"Bearer {FAKE_API_KEY}"]
    assert "Not sending" not in result.stderr


def test_dotenv_cannot_pull_the_real_key_into_its_url(
    fake_server: FakeLLMServer, tmp_path: Path
) -> None:
    """`${VAR}` in `.env` is text, not a way to copy a real variable into a URL."""
    (tmp_path / ".env").write_text(
        "OPENAI_BASE_URL=" + fake_server.openai_url.replace("/v1", "/${OPENAI_API_KEY}/v1") + "\n"
    )
    ask(tmp_path, clean_env(tmp_path, OPENAI_API_KEY=FAKE_API_KEY))
    for request in fake_server.requests:
        assert FAKE_API_KEY not in request.path
        assert FAKE_API_KEY not in request.headers.get("authorization", "")


def test_withheld_key_is_one_line_in_settings_and_on_stderr_of_ask(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    closed_port_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / ".env").write_text(f"OPENAI_BASE_URL=http://user:pw@{closed_port_url[7:]}/v1\n")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-real-0123456789")
    settings = resolved(tmp_path, monkeypatch)
    assert settings.api_key is None
    assert settings.key_withheld is not None and "\n" not in settings.key_withheld
    assert "Not sending OPENAI_API_KEY to" in settings.key_withheld
    assert "pw" not in settings.key_withheld  # the URL is shown without its credentials
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    status = main(["ask", "--api", "chat", "hi"])
    err = capsys.readouterr().err
    assert status == 1  # nothing listens there
    assert err.count(settings.key_withheld) == 1 and "sk-real" not in err


def test_a_profile_key_from_the_environment_is_not_sent_to_a_dotenv_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "config.toml").write_text(
        'default_profile = "work"\n[profiles.work]\napi = "chat"\napi_key_env = "WORK_KEY"\n'
    )
    (tmp_path / ".env").write_text("OPENAI_BASE_URL=http://evil.example/v1\n")
    monkeypatch.setenv("WORK_KEY", "sk-work-0123456789")
    settings = resolved(tmp_path, monkeypatch)
    assert settings.api_key is None
    assert settings.key_withheld is not None and "WORK_KEY" in settings.key_withheld
    # A profile's own base_url is chosen by the user, so it gets the key.
    (tmp_path / "config.toml").write_text(
        '[profiles.work]\napi = "chat"\napi_key_env = "WORK_KEY"\n'
        'base_url = "http://proxy.example/v1"\n'
    )
    chosen = resolved(tmp_path, monkeypatch, "--profile", "work")
    assert (chosen.base_url, chosen.api_key) == ("http://proxy.example/v1", "sk-work-0123456789")
    assert chosen.key_withheld is None


def test_dotenv_still_supplies_what_the_environment_does_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("OPENAI_API_KEY=sk-dotenv-0123456789\nTUI_CHAT_MODEL=m\n")
    monkeypatch.setenv("TUI_CHAT_MODEL", "from-env")
    settings = resolved(tmp_path, monkeypatch)
    assert (settings.api, settings.model) == ("responses", "from-env")
    assert settings.api_key == "sk-dotenv-0123456789" and settings.key_withheld is None
    assert "OPENAI_API_KEY" not in os.environ  # read, not merged into the process


def test_switching_settings_never_points_a_real_key_at_a_dotenv_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app switches profiles with `with_`, setting the environment's key again."""
    (tmp_path / ".env").write_text("OPENAI_BASE_URL=http://evil.example/v1\n")
    settings = resolved(tmp_path, monkeypatch)
    switched = settings.with_(api_key="sk-real-0123456789", api_key_env="OPENAI_API_KEY")
    assert switched.api_key is None and switched.key_withheld is not None
    elsewhere = switched.with_(base_url="http://127.0.0.1:8000/v1", api_key="sk-real-0123456789")
    assert elsewhere.api_key == "sk-real-0123456789" and elsewhere.key_withheld is None


def test_serve_says_the_key_was_withheld(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("OPENAI_BASE_URL=http://127.0.0.1:9/v1\n")
    env = clean_env(tmp_path, OPENAI_API_KEY=FAKE_API_KEY)
    with subprocess.Popen(
        [*TUI_CHAT, "serve", "--api", "chat", "--port", "0"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    ) as proc:
        assert proc.stderr is not None
        err = b""
        deadline = time.monotonic() + 20
        try:
            while b"\n" not in err and time.monotonic() < deadline:
                ready, _, _ = select.select([proc.stderr], [], [], 0.5)
                if ready:
                    chunk = os.read(proc.stderr.fileno(), 4096)
                    if not chunk:
                        break
                    err += chunk
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    first = err.decode().splitlines()[0] if err else ""
    assert "Not sending OPENAI_API_KEY to http://127.0.0.1:9/v1" in first
    assert FAKE_API_KEY.encode() not in err


@pytest.mark.parametrize(
    ("settings", "host"),
    [
        (Settings(), "api.openai.com"),
        (Settings(api="chat", base_url="http://127.0.0.1:8000/v1"), "127.0.0.1:8000"),
        (
            Settings(api="chat", base_url="https://me:secret@proxy.example/v1?key=k"),
            "proxy.example",
        ),
        (Settings(api="chat", base_url="http://[::1]:11434/v1"), "[::1]:11434"),
        (Settings(api="backend"), "127.0.0.1:8000"),
        (Settings(api="local"), "local model"),
        (Settings(api="replay", replay=Path("/tmp/demo.jsonl")), "replay demo.jsonl"),
    ],
)
def test_endpoint_host_names_where_requests_go_without_credentials(
    settings: Settings, host: str
) -> None:
    from tui_chat.settings.config import endpoint_host

    assert endpoint_host(settings) == host
