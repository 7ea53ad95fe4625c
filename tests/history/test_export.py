"""Markdown and JSON export: pure functions of a stored conversation."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

from tui_chat.core.protocol import Role
from tui_chat.core.sanitize import clean
from tui_chat.history import (
    MessageStatus,
    StoredConversation,
    StoredMessage,
    export_json,
    export_markdown,
)
from tui_chat.history.export import JSON_FORMAT_VERSION

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


CONV = StoredConversation(
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
        _msg(9, "user", "Still there?"),
        _msg(10, "assistant", "Yes, but", "interrupted"),
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
    assert "## Assistant\n\nYou're\n\n> *(unfinished: the reply was still streaming" in text
    assert (
        "## Assistant\n\nYes, but\n\n> *(interrupted: tui-chat ended before the reply did)*" in text
    )
    assert text.endswith("\n") and not text.endswith("\n\n")


def test_markdown_fences_the_system_prompt_safely() -> None:
    text = export_markdown(CONV)
    assert "````\nAnswer with ``` code fences\n````" in text


def test_markdown_of_an_untitled_empty_conversation() -> None:
    empty = StoredConversation(7, None, T0, T0, "chat", None, "m", None)
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
        "complete",
        "interrupted",
    ]
    assert data["messages"][1]["metrics"] == {"ttft": 0.2, "total": 1.0, "tokens": 5}
    assert data["messages"][3]["error"] == "connection dropped"
    assert "api_key" not in json.dumps(data)


def test_json_drops_control_characters_and_keeps_unicode_newlines_and_tabs() -> None:
    conv = StoredConversation(
        1, "t", T0, T0, "chat", None, "m", None, (_msg(1, "user", "\x1b[31m中\x07\n\tx"),)
    )
    text = export_json(conv)
    assert "\x1b" not in text and "\x07" not in text
    assert "中" in text
    assert json.loads(text)["messages"][0]["content"] == clean("\x1b[31m中\x07") + "\n\tx"


#: What a hostile server or model can get stored: OSC 0 (window title), OSC 52
#: (clipboard), CSI 2J spelled with ESC and as the one-byte C1 CSI, NEL, a bidi override.
HOSTILE = "\x1b]0;pwned\x07\x1b]52;c;aGk=\x07\x1b[2J\x9b2J\x85\u202eevil"
#: The same as the one cleaner shows it (its rules for escape sequences are its own).
SHOWN = clean(HOSTILE)
CONTROLS = [chr(c) for c in (*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0))]


def _hostile_conversation() -> StoredConversation:
    return StoredConversation(
        id=3,
        title=f"title {HOSTILE}",
        created_at=T0,
        updated_at=T0,
        api="chat",
        base_url=f"http://127.0.0.1:8000/{HOSTILE}",
        model=f"model {HOSTILE}",
        system=f"system {HOSTILE}",
        messages=(
            _msg(1, "user", f"prompt {HOSTILE}\n\tindented"),
            _msg(2, "assistant", f"reply {HOSTILE}", "error", error=f"server said {HOSTILE}"),
        ),
    )


def test_markdown_export_has_no_escape_c1_or_bidi_characters_from_any_field() -> None:
    text = export_markdown(_hostile_conversation())
    assert not [c for c in CONTROLS if c in text]
    assert "\u202e" not in text
    assert text.startswith(f"# title {SHOWN}\n")
    assert f"- Model: model {SHOWN}\n" in text
    assert f"prompt {SHOWN}\n\tindented" in text
    assert f"> *(failed: server said {SHOWN})*" in text
    assert f"system {SHOWN}\n" in text and f"reply {SHOWN}\n" in text


def test_json_export_cleans_every_field_and_writes_no_c1_character_raw() -> None:
    conv = _hostile_conversation()
    odd = _msg(3, "assistant", "ok", metrics={"note\x9b": 1.0})  # a key no one cleaned
    conv = replace(conv, messages=(*conv.messages, odd))
    text = export_json(conv)
    assert not [c for c in CONTROLS if c in text.replace("\n", "")]
    assert "\u202e" not in text
    assert "\\u009b" in text  # escaped, as JSON allows, rather than dropped
    data = json.loads(text)
    assert data["messages"][2]["metrics"] == {"note\x9b": 1.0}
    for value in (data["title"], data["model"], data["system"], data["base_url"]):
        assert value.endswith(SHOWN)
    assert data["messages"][0]["content"] == f"prompt {SHOWN}\n\tindented"
    assert data["messages"][1]["error"] == f"server said {SHOWN}"
