"""Markdown and JSON export: pure functions of a stored conversation."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from tui_chat.history import (
    Conversation,
    MessageStatus,
    StoredMessage,
    export_json,
    export_markdown,
)
from tui_chat.history.export import JSON_FORMAT_VERSION
from tui_chat.providers.base import Role

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def _msg(
    seq: int,
    role: Role,
    content: str,
    status: MessageStatus = "complete",
    error: str | None = None,
    metrics: dict[str, float] | None = None,
) -> StoredMessage:
    return StoredMessage(seq, 7, seq, role, content, status, error, T0, metrics)


CONV = Conversation(
    id=7,
    title="Sorting in Python",
    created_at=T0,
    updated_at=T0,
    api="chat",
    base_url="http://127.0.0.1:8000/v1",
    model="gpt-4o-mini",
    system="Answer with ``` code fences",
    messages=(
        _msg(1, "user", "How do I sort a list?"),
        _msg(2, "assistant", "Use `sorted(xs)`.", metrics={"ttft": 0.2, "total": 1.0, "tokens": 5}),
        _msg(3, "user", "And in reverse?"),
        _msg(4, "assistant", "sorted(xs, rev", "error", error="connection dropped"),
        _msg(5, "user", "Try again"),
        _msg(6, "assistant", "Pass reverse=True", "stopped"),
        _msg(7, "user", "Thanks"),
        _msg(8, "assistant", "You're", "streaming"),
    ),
)


def test_markdown_reads_as_a_document() -> None:
    text = export_markdown(CONV)
    assert text.startswith("# Sorting in Python\n")
    assert "- Model: gpt-4o-mini" in text
    assert "- Provider: chat" in text
    assert "- Base URL: http://127.0.0.1:8000/v1" in text
    assert "## User\n\nHow do I sort a list?" in text
    assert "## Assistant\n\nUse `sorted(xs)`." in text
    assert "> *(failed: connection dropped)*" in text
    assert "> *(stopped by the user)*" in text
    assert "interrupted" in text
    assert text.endswith("\n") and not text.endswith("\n\n")


def test_markdown_fences_the_system_prompt_safely() -> None:
    text = export_markdown(CONV)
    assert "````\nAnswer with ``` code fences\n````" in text


def test_markdown_of_an_untitled_empty_conversation() -> None:
    empty = Conversation(7, None, T0, T0, "chat", None, "m", None)
    text = export_markdown(empty)
    assert text.startswith("# Conversation 7\n")
    assert "Base URL" not in text and "System prompt" not in text


def test_json_keeps_every_field() -> None:
    data = json.loads(export_json(CONV))
    assert data["format"] == "tui-chat-conversation"
    assert data["version"] == JSON_FORMAT_VERSION
    assert {k: data[k] for k in ("id", "title", "api", "base_url", "model", "system")} == {
        "id": 7,
        "title": "Sorting in Python",
        "api": "chat",
        "base_url": "http://127.0.0.1:8000/v1",
        "model": "gpt-4o-mini",
        "system": "Answer with ``` code fences",
    }
    assert datetime.fromisoformat(data["created_at"]) == T0
    assert [m["status"] for m in data["messages"]] == [
        "complete",
        "complete",
        "complete",
        "error",
        "complete",
        "stopped",
        "complete",
        "streaming",
    ]
    assert data["messages"][1]["metrics"] == {"ttft": 0.2, "total": 1.0, "tokens": 5}
    assert data["messages"][3]["error"] == "connection dropped"
    assert "api_key" not in json.dumps(data)


def test_json_escapes_control_characters_and_keeps_unicode() -> None:
    conv = Conversation(
        1, "t", T0, T0, "chat", None, "m", None, (_msg(1, "user", "\x1b[31m中\x07"),)
    )
    text = export_json(conv)
    assert "\x1b" not in text and "\x07" not in text
    assert "中" in text
    assert json.loads(text)["messages"][0]["content"] == "\x1b[31m中\x07"
