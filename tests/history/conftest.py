"""Fixtures for the history tests: every test gets its own empty data directory.

`XDG_DATA_HOME` points into `tmp_path`, so the default location is exercised and no
test can touch the real user's history.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tui_chat.history import HistoryStore

from .helpers import TickingClock, file_modes_bind


@pytest.fixture
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty `XDG_DATA_HOME`; the database goes in `data_home / "tui-chat"`."""
    home = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    return home


@pytest.fixture
def clock() -> TickingClock:
    return TickingClock()


@pytest.fixture
def store(data_home: Path, clock: TickingClock) -> Iterator[HistoryStore]:
    with HistoryStore.open(clock=clock) as opened:
        yield opened


@pytest.fixture
def file_modes() -> None:
    """For tests of unwritable files: they run their programs `bound_by_file_modes`."""
    if not file_modes_bind():
        pytest.skip("file modes do not bind here (root that cannot drop CAP_DAC_OVERRIDE)")
