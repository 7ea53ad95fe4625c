"""Helpers shared by the history tests (imported relatively: `from .helpers import ...`)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path


class TickingClock:
    """A clock that moves one second per reading, so 'newest first' is deterministic."""

    def __init__(self, start: datetime = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def clean_env(data_home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TUI_CHAT_"))}
    env["XDG_DATA_HOME"] = str(data_home)
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def run_history(data_home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m tui_chat history ARGS` with `XDG_DATA_HOME=data_home` (stdout is a pipe)."""
    return subprocess.run(
        [sys.executable, "-m", "tui_chat", "history", *args],
        env=clean_env(data_home),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def files_bytes(directory: Path) -> dict[str, bytes]:
    """Every file under `directory` (database, -wal, -shm, exports) by name."""
    return {
        str(p.relative_to(directory)): p.read_bytes() for p in directory.rglob("*") if p.is_file()
    }
