"""What the history store hands back: frozen dataclasses with no database in them.

They are plain values so a widget, the shell commands and the exporters can use them
without holding a connection or a lock.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tui_chat.core.protocol import ChatMessage, Role
from tui_chat.core.sanitize import clean
from tui_chat.core.status import STATUSES as ALL_STATUSES
from tui_chat.core.status import ReplyStatus

if TYPE_CHECKING:
    from tui_chat.core.conversation import Conversation as LiveConversation
    from tui_chat.settings.config import Settings

#: "streaming" while a process writes the reply; "interrupted" once the store has found
#: it orphaned (its process died before the reply ended, see `HistoryStore.open`).
#: Statuses a stored message can have: the shared vocabulary, less "waiting".
MessageStatus = ReplyStatus
STATUSES: tuple[ReplyStatus, ...] = tuple(s for s in ALL_STATUSES if s != "waiting")
ROLES: tuple[Role, ...] = ("user", "assistant", "system")

#: Marks around each match in `SearchHit.snippet`. Control characters rather than
#: brackets because model text is full of `[` `]` (Markdown links, code), and a UI must
#: be able to tell a highlight from content. Use `SearchHit.parts()` or `.marked()`.
MATCH_START = "\x02"
MATCH_END = "\x03"

TITLE_WIDTH = 60


def make_title(text: str, width: int = TITLE_WIDTH) -> str | None:
    """A one-line title from a prompt: its first non-blank line, whitespace collapsed,
    cut at a word boundary to about `width` characters, control characters dropped (a
    title is shown in lists and tab bars). None for a blank prompt."""
    line = next((ln for ln in text.splitlines() if ln.strip()), "")
    line = " ".join(clean(line).split())
    if not line:
        return None
    if len(line) <= width:
        return line
    cut = line[: width - 1]
    space = cut.rfind(" ")
    if space >= width // 2:
        cut = cut[:space]
    return cut.rstrip() + "…"


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """One saved message, as read back from the database."""

    id: int
    conversation_id: int
    seq: int  # 1, 2, 3… within its conversation
    role: Role
    content: str
    status: MessageStatus
    error: str | None
    created_at: datetime
    metrics: Mapping[str, Any] | None = (
        None  # e.g. {"first_token": 0.4, "total": 2.1, "tokens": 87}
    )
    #: When a retry or an edit replaced this message's turn; None while it is current.
    replaced_at: datetime | None = None
    #: On a current prompt: how many earlier versions of its turn history keeps.
    earlier_versions: int = 0

    def as_chat_message(self) -> ChatMessage:
        return ChatMessage(self.role, self.content)

    @property
    def reasoning(self) -> str:
        """A reply's thinking, kept in its metrics (never in `content`, never context)."""
        return str((self.metrics or {}).get("reasoning") or "")


@dataclass(frozen=True, slots=True)
class EarlierVersion:
    """A turn a retry or an edit replaced: its prompt and its reply (either may be
    missing in a history cut short by a crash)."""

    prompt: StoredMessage | None
    reply: StoredMessage | None
    replaced_at: datetime


def group_turns(messages: Sequence[StoredMessage]) -> list[EarlierVersion]:
    """Replaced messages, in seq order, as turns: each prompt starts one."""
    turns: list[EarlierVersion] = []
    for message in messages:
        replaced_at = message.replaced_at or message.created_at
        if message.role == "user" or not turns or turns[-1].reply is not None:
            prompt = message if message.role == "user" else None
            reply = None if message.role == "user" else message
            turns.append(EarlierVersion(prompt, reply, replaced_at))
        else:
            last = turns[-1]
            turns[-1] = EarlierVersion(last.prompt, message, last.replaced_at)
    return turns


@dataclass(frozen=True, slots=True)
class ConversationSummary:
    """One row of the conversation list (no message bodies)."""

    id: int
    title: str | None
    created_at: datetime
    updated_at: datetime
    api: str
    model: str
    message_count: int


@dataclass(frozen=True, slots=True)
class StoredConversation:
    """A saved chat and the settings it ran with, to show or resume."""

    id: int
    title: str | None
    created_at: datetime
    updated_at: datetime
    api: str
    base_url: str | None
    model: str
    system: str | None
    messages: tuple[StoredMessage, ...] = ()

    def chat_messages(self) -> tuple[ChatMessage, ...]:
        """The turns to send as context when the conversation is resumed.

        Same rule as the live `tui_chat.core.conversation.Conversation`: a prompt whose
        reply failed is left out with its reply, a stopped reply keeps its partial
        text, but one stopped before its first word (only thinking shown) is left out
        with its prompt. A reply cut off by a crash (`interrupted`, or still `streaming`)
        counts as stopped; a prompt that never got a reply at all is left out.
        """
        out: list[ChatMessage] = []
        msgs = self.messages
        for i, msg in enumerate(msgs):
            following = msgs[i + 1] if i + 1 < len(msgs) else None
            if msg.role == "user" and (
                following is None or following.role != "assistant" or _dropped(following)
            ):
                continue
            if msg.role == "assistant" and _dropped(msg):
                continue
            out.append(msg.as_chat_message())
        return tuple(out)


def _dropped(reply: StoredMessage) -> bool:
    """A reply that is not context: it failed, or it has no answer text and did not
    complete (stopped while the model was still thinking, cut off before a word): an
    empty assistant message is never sent."""
    return reply.status == "error" or (reply.status != "complete" and not reply.content)


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One message that matches a search, with the text around the match."""

    conversation_id: int
    title: str | None
    message_id: int
    seq: int
    role: Role
    #: Text around the match, each match between `MATCH_START` and `MATCH_END`;
    #: "…" where the snippet cuts the message.
    snippet: str
    created_at: datetime

    def parts(self) -> Iterator[tuple[str, bool]]:
        """The snippet as `(text, is_match)` pieces, markers removed (for styling)."""
        rest = self.snippet
        while rest:
            start = rest.find(MATCH_START)
            if start < 0:
                yield rest, False
                return
            if start:
                yield rest[:start], False
            end = rest.find(MATCH_END, start + 1)
            if end < 0:
                end = len(rest)
            if end > start + 1:
                yield rest[start + 1 : end], True
            rest = rest[end + 1 :]

    def marked(self, start: str = "[", end: str = "]") -> str:
        """The snippet with matches between `start` and `end`, e.g. for plain-text output."""
        return "".join(f"{start}{text}{end}" if hit else text for text, hit in self.parts())


def live_conversation(conversation: LiveConversation, settings: Settings) -> StoredConversation:
    """The conversation on screen in history's shape, to export it without a database."""
    now = datetime.now(UTC)
    messages = tuple(
        StoredMessage(
            id=seq,
            conversation_id=0,
            seq=seq,
            role=message.role,
            content=message.content,
            status="complete",
            error=None,
            created_at=now,
        )
        for seq, message in enumerate(conversation.messages, start=1)
    )
    first = next((m.content for m in conversation.messages if m.role == "user"), "")
    return StoredConversation(
        id=0,
        title=make_title(first),
        created_at=now,
        updated_at=now,
        api=settings.api,
        base_url=settings.base_url,
        model=settings.model,
        system=settings.system,
        messages=messages,
    )
