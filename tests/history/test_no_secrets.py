"""The API key never reaches the history: not the database, not its -wal/-shm, not exports."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tui_chat.history import HistoryStore, conversation_settings, export_json, export_markdown
from tui_chat.settings.config import Settings

from .helpers import files_bytes, run_history

SECRET = "sk-history-test-5f1e2d3c4b5a-SECRET"


def test_conversation_settings_copies_only_safe_fields() -> None:
    settings = Settings(api="chat", model="m", base_url="http://h", system="s", api_key=SECRET)
    assert conversation_settings(settings) == {
        "api": "chat",
        "base_url": "http://h",
        "model": "m",
        "system": "s",
    }


def test_credentials_in_the_base_url_are_not_kept() -> None:
    settings = Settings(api="chat", base_url="http://user:hunter2@h:8000/v1/")
    assert conversation_settings(settings)["base_url"] == "http://h:8000/v1"


def test_store_methods_refuse_an_api_key_argument(store: HistoryStore) -> None:
    settings = Settings(api_key=SECRET)
    with pytest.raises(TypeError):
        store.new_conversation(**dataclasses.asdict(settings))  # type: ignore[arg-type]
    conv = store.new_conversation(**conversation_settings(settings))
    with pytest.raises(TypeError):
        store.update_settings(conv, api_key=SECRET)  # type: ignore[call-arg]


def test_no_file_in_the_data_dir_contains_the_key(data_home: Path, tmp_path: Path) -> None:
    settings = Settings(
        api="chat", model="m1", base_url="http://127.0.0.1:1/v1", system="sys", api_key=SECRET
    )
    secret = SECRET.encode()
    store = HistoryStore.open()
    try:
        conv = store.new_conversation(**conversation_settings(settings))
        store.add_message(conv, "user", "hello")
        reply = store.add_message(conv, "assistant", "", "streaming")
        store.update_message(reply, "hi there", status="complete", metrics={"total": 1.0})
        store.update_settings(conv, **conversation_settings(settings.with_(model="m2")))
        store.search("hello")
        conv_data = store.get_conversation(conv)
        assert conv_data is not None
        assert SECRET not in export_markdown(conv_data) + export_json(conv_data)
        # While open, the recent writes sit in the -wal file.
        written = files_bytes(data_home)
        assert any(name.endswith("-wal") for name in written)
        assert all(secret not in content for content in written.values())
    finally:
        store.close()
    for name in ("md", "json"):
        out = tmp_path / f"export.{name}"
        assert (
            run_history(data_home, "export", "1", "--format", name, "-o", str(out)).returncode == 0
        )
    written = {**files_bytes(data_home), **files_bytes(tmp_path)}
    assert "tui-chat/history.sqlite3" in written
    assert all(secret not in content for content in written.values())
