"""Conversations as Markdown (to read or paste) and JSON (to process or archive).

Pure functions of a `Conversation`: no database, no terminal. The text is exported
exactly as stored; cleaning it for a terminal is the caller's business.
"""

from __future__ import annotations

import json
from typing import Any

from tui_chat.history.models import Conversation, StoredMessage

#: Bumped if the JSON layout changes incompatibly.
JSON_FORMAT_VERSION = 1

_ROLE_HEADINGS = {"user": "User", "assistant": "Assistant", "system": "System"}
_STATUS_NOTES = {
    "stopped": "stopped by the user",
    "error": "failed",
    "streaming": "interrupted: the reply was still streaming when tui-chat ended",
}


def _fence(text: str) -> str:
    """A backtick fence longer than any run of backticks inside `text`."""
    longest = run = 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    return "`" * max(3, longest + 1)


def export_markdown(conv: Conversation) -> str:
    title = conv.title or f"Conversation {conv.id}"
    lines = [f"# {title}", ""]
    lines.append(f"- Conversation: {conv.id}")
    lines.append(f"- Created: {conv.created_at.isoformat(timespec='seconds')}")
    lines.append(f"- Updated: {conv.updated_at.isoformat(timespec='seconds')}")
    lines.append(f"- Provider: {conv.api}")
    lines.append(f"- Model: {conv.model}")
    if conv.base_url:
        lines.append(f"- Base URL: {conv.base_url}")
    if conv.system:
        fence = _fence(conv.system)
        lines += ["", "System prompt:", "", fence, conv.system, fence]
    for msg in conv.messages:
        lines += ["", f"## {_ROLE_HEADINGS.get(msg.role, msg.role.title())}", ""]
        if msg.content:
            lines.append(msg.content)
        note = _STATUS_NOTES.get(msg.status)
        if note:
            detail = f": {msg.error}" if msg.error else ""
            lines += ["", f"> *({note}{detail})*"]
    return "\n".join(lines).rstrip("\n") + "\n"


def _message_dict(msg: StoredMessage) -> dict[str, Any]:
    return {
        "id": msg.id,
        "seq": msg.seq,
        "role": msg.role,
        "content": msg.content,
        "status": msg.status,
        "error": msg.error,
        "created_at": msg.created_at.isoformat(),
        "metrics": None if msg.metrics is None else dict(msg.metrics),
    }


def conversation_dict(conv: Conversation) -> dict[str, Any]:
    return {
        "format": "tui-chat-conversation",
        "version": JSON_FORMAT_VERSION,
        "id": conv.id,
        "title": conv.title,
        "created_at": conv.created_at.isoformat(),
        "updated_at": conv.updated_at.isoformat(),
        "api": conv.api,
        "base_url": conv.base_url,
        "model": conv.model,
        "system": conv.system,
        "messages": [_message_dict(m) for m in conv.messages],
    }


def export_json(conv: Conversation) -> str:
    """Indented JSON, non-ASCII kept as is (control characters are escaped by JSON)."""
    return json.dumps(conversation_dict(conv), ensure_ascii=False, indent=2) + "\n"
