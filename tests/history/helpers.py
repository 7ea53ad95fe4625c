"""Helpers shared by the history tests (imported relatively: `from .helpers import ...`)."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import tempfile
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


def run_history(
    data_home: Path, *args: str, modes_bind: bool = False
) -> subprocess.CompletedProcess[str]:
    """`python -m tui_chat history ARGS` with `XDG_DATA_HOME=data_home` (stdout is a pipe);
    `modes_bind` runs it `bound_by_file_modes`."""
    argv = [sys.executable, "-m", "tui_chat", "history", *args]
    return subprocess.run(
        bound_by_file_modes(argv) if modes_bind else argv,
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


#: Run as `python -c DROP_AND_EXEC PROGRAM ARGS...`: drops the capabilities that let root
#: ignore file modes (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER) from the
#: bounding set, then execs PROGRAM, which therefore runs without them.
_DROP_AND_EXEC = """
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
for cap in (1, 2, 3):
    if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
        sys.exit(f"cannot drop capability {cap}: {os.strerror(ctypes.get_errno())}")
os.execv(sys.argv[1], sys.argv[1:])
"""


def bound_by_file_modes(argv: list[str]) -> list[str]:
    """`argv` run so that file modes bind it. The suite runs as root, and root writes a
    0400 file without a second thought; without those capabilities it cannot."""
    if os.name != "posix" or os.geteuid() != 0:
        return argv
    return [sys.executable, "-c", _DROP_AND_EXEC, *argv]


@functools.cache
def file_modes_bind() -> bool:
    """Whether `bound_by_file_modes` really stops a write to a 0400 file here."""
    if os.name != "posix":
        return False
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / "probe"
        probe.write_text("")
        probe.chmod(0o400)
        code = "open(__import__('sys').argv[1], 'a')"
        result = subprocess.run(
            bound_by_file_modes([sys.executable, "-c", code, str(probe)]),
            capture_output=True,
            text=True,
            timeout=60,
        )
        return result.returncode != 0 and "PermissionError" in result.stderr
