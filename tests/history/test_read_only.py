"""A history that can be read but not written stays readable, and nothing is written to it.

The suite runs as root, which writes a 0400 file regardless, so the commands under test
run `bound_by_file_modes` (without the capabilities that let root ignore modes): a write
really fails, and the store really has to fall back.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tui_chat.history import HistoryStore, ReadOnlyError
from tui_chat.history.saver import HistorySaver, read_only_notice
from tui_chat.settings.config import Settings

from .helpers import TickingClock, files_bytes, run_history


@pytest.fixture
def saved(data_home: Path) -> Iterator[Path]:
    """One saved chat, the store closed as a clean exit leaves it; yields the database."""
    with HistoryStore.open(clock=TickingClock()) as store:
        conv = store.new_conversation(api="chat", base_url=None, model="m1", system=None)
        store.add_message(conv, "user", "How do otters sleep?")
        store.add_message(conv, "assistant", "Floating, holding hands.")
        path = store.path
    yield path
    path.chmod(0o600)  # let tmp_path cleanup remove everything
    path.parent.chmod(0o700)


def _make_read_only(path: Path, what: str) -> None:
    if what == "file":
        path.chmod(0o400)
    else:
        path.parent.chmod(0o500)


def test_a_store_opened_read_only_reads_everything_and_changes_nothing(saved: Path) -> None:
    before = files_bytes(saved.parent)
    with HistoryStore.open(read_only=True) as store:
        assert store.read_only
        [summary] = store.list_conversations()
        conv = store.get_conversation(summary.id)
        assert conv is not None and conv.messages[1].content == "Floating, holding hands."
        assert [hit.conversation_id for hit in store.search("otters")] == [summary.id]
        with pytest.raises(ReadOnlyError, match="read-only"):
            store.new_conversation(api="chat", base_url=None, model="m", system=None)
        with pytest.raises(ReadOnlyError):
            store.delete(summary.id)
    assert files_bytes(saved.parent) == before


@pytest.mark.parametrize("what", ["file", "directory"])
def test_a_read_only_history_is_listed_shown_exported_and_searched(
    saved: Path, data_home: Path, file_modes: None, what: str
) -> None:
    _make_read_only(saved, what)
    before = files_bytes(saved.parent)

    listed = run_history(data_home, "list", modes_bind=True)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split("\t")[2] == "How do otters sleep?"
    shown = run_history(data_home, "show", "last", modes_bind=True)
    assert shown.returncode == 0, shown.stderr
    assert "Floating, holding hands." in shown.stdout
    exported = run_history(data_home, "export", "1", "--format", "json", modes_bind=True)
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout)["messages"][0]["content"] == "How do otters sleep?"
    found = run_history(data_home, "search", "otters", modes_bind=True)
    assert found.returncode == 0, found.stderr
    assert found.stdout.startswith("1\tHow do otters sleep?\tuser\t")

    deleted = run_history(data_home, "delete", "1", modes_bind=True)
    assert deleted.returncode == 1
    assert deleted.stderr.count("\n") == 1 and "is read-only" in deleted.stderr
    assert "attempt to write" not in deleted.stderr
    # Not a byte written, and no -wal or -shm left beside a file we could not remove them from.
    assert files_bytes(saved.parent) == before


def test_the_recorder_saves_nothing_to_a_read_only_store_and_reports_nothing(
    saved: Path,
) -> None:
    before = files_bytes(saved.parent)
    errors: list[str] = []
    with HistoryStore.open(read_only=True) as store:
        recorder = HistorySaver(store, on_error=errors.append)
        conv = recorder.load(1)
        assert conv is not None and conv.title == "How do otters sleep?"
        settings = Settings(api="chat", model="m1")
        reply_id = recorder.begin_turn(settings, "and beavers?")
        assert reply_id is None
        for partial in ("Beavers", "Beavers build", "Beavers build dams."):
            recorder.save_partial(reply_id, partial)
        recorder.finish(reply_id, "Beavers build dams.", "complete")
        recorder.settings_changed(settings.with_(model="m2"))
        notice = read_only_notice(store)
    assert errors == []  # the one notice is the chat's, given when it starts
    assert notice is not None and "will not be saved" in notice
    assert files_bytes(saved.parent) == before


def test_a_writable_store_has_no_read_only_notice(data_home: Path) -> None:
    with HistoryStore.open() as store:
        assert not store.read_only and read_only_notice(store) is None
