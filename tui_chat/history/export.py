"""Conversations as Markdown (to read or paste) and JSON (to process or archive).

Pure functions of a `StoredConversation`: no database, no terminal. Every text field goes
through `tui_chat.core.sanitize.clean` (newlines and tabs kept): an export is opened in a
terminal (`cat`, `less -R`) or an editor, where a stored escape sequence from a model or
a server would act rather than read.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tui_chat.core.sanitize import clean
from tui_chat.history.models import StoredConversation, StoredMessage

#: Bumped if the JSON layout changes incompatibly.
JSON_FORMAT_VERSION = 1

_ROLE_HEADINGS = {"user": "User", "assistant": "Assistant", "system": "System"}
_STATUS_NOTES = {
    "stopped": "stopped by the user",
    "error": "failed",
    "streaming": "unfinished: the reply was still streaming when this was exported",
    "interrupted": "interrupted: tui-chat ended before the reply did",
}


def _fence(text: str) -> str:
    """A backtick fence longer than any run of backticks inside `text`."""
    longest = run = 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    return "`" * max(3, longest + 1)


def _text(value: str | None) -> str | None:
    return None if value is None else clean(value)


def _line(value: str) -> str:
    """One line of Markdown (a heading, a list item): cleaned, whitespace collapsed."""
    return " ".join(clean(value).split())


def export_markdown(conv: StoredConversation) -> str:
    title = _line(conv.title or "") or f"Conversation {conv.id}"
    lines = [f"# {title}", ""]
    lines.append(f"- Conversation: {conv.id}")
    lines.append(f"- Created: {conv.created_at.isoformat(timespec='seconds')}")
    lines.append(f"- Updated: {conv.updated_at.isoformat(timespec='seconds')}")
    lines.append(f"- Provider: {_line(conv.api)}")
    lines.append(f"- Model: {_line(conv.model)}")
    if conv.base_url:
        lines.append(f"- Base URL: {_line(conv.base_url)}")
    if conv.system:
        system = clean(conv.system)
        fence = _fence(system)
        lines += ["", "System prompt:", "", fence, system, fence]
    for msg in conv.messages:
        lines += ["", f"## {_ROLE_HEADINGS.get(msg.role, _line(msg.role).title())}", ""]
        if msg.content:
            lines.append(clean(msg.content))
        note = _STATUS_NOTES.get(msg.status)
        if note:
            detail = f": {_line(msg.error)}" if msg.error else ""
            lines += ["", f"> *({note}{detail})*"]
    return "\n".join(lines).rstrip("\n") + "\n"


def _message_dict(msg: StoredMessage) -> dict[str, Any]:
    return {
        "id": msg.id,
        "seq": msg.seq,
        "role": msg.role,
        "content": clean(msg.content),
        "status": msg.status,
        "error": _text(msg.error),
        "created_at": msg.created_at.isoformat(),
        "metrics": None if msg.metrics is None else dict(msg.metrics),
    }


def conversation_dict(conv: StoredConversation) -> dict[str, Any]:
    return {
        "format": "tui-chat-conversation",
        "version": JSON_FORMAT_VERSION,
        "id": conv.id,
        "title": _text(conv.title),
        "created_at": conv.created_at.isoformat(),
        "updated_at": conv.updated_at.isoformat(),
        "api": clean(conv.api),
        "base_url": _text(conv.base_url),
        "model": clean(conv.model),
        "system": _text(conv.system),
        "messages": [_message_dict(m) for m in conv.messages],
    }


#: DEL and the C1 controls: `json.dumps(ensure_ascii=False)` escapes only C0, and a raw
#: U+009B is a CSI to many terminals. Outside strings JSON has no such characters, so
#: replacing them anywhere in the text changes no value.
_UNESCAPED_CONTROLS = re.compile("[\x7f-\x9f]")


def export_json(conv: StoredConversation) -> str:
    """Indented JSON, non-ASCII kept as is; every control character left in a value
    (C0, DEL, C1, e.g. in metrics) is written as a `\\u` escape, never raw."""
    text = json.dumps(conversation_dict(conv), ensure_ascii=False, indent=2) + "\n"
    return _UNESCAPED_CONTROLS.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
