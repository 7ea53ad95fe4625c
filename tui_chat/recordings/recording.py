"""Recordings: every wire event of a reply, appended to a JSONL file as it arrives.

A recording answers "what did the server actually send, and when?" long after the
fact, and `--replay` plays it back through the same code paths, so a slow first token
or an odd chunking can be shown, tested and benchmarked without the server.

Why JSONL, appended, one flushed line per event: a crash keeps everything that
arrived, a file can be tailed while it grows, and several runs can share one file.
Only prompts and wire events are written, never requests or headers, so never the
API key; as a last guard, a key echoed back by a server is masked (`mask_credentials`).
Masking works on the parsed values, never on the JSON line, so it cannot break a line's
structure, and a short key ("x", "ollama") is masked only where a credential stands,
so the reply's own letters survive. The file is created 0600: it holds the prompts.

The lines of one reply::

    {"type": "reply", "id": 1, "protocol": "chat", "model": "m", "prompt": "hi",
     "started": "2025-01-31T12:00:00.000+01:00"}
    {"type": "event", "reply": 1, "t": 0.51, "kind": "chunk", "payload": {...}, "text": "Hel"}
    {"type": "end", "reply": 1, "t": 2.9, "status": "complete",
     "usage": {"input_tokens": 12, "output_tokens": 80}}

`t` is seconds since the request was sent. `reply` ties a line to its header, because
two replies (the compare screen) can be recorded at once; a line without it belongs to
the latest header, so a hand-written file needs no ids.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

from tui_chat.core.private_files import open_private
from tui_chat.core.protocol import ChatRequest, ProviderError, Usage, WireEvent
from tui_chat.core.redact import MASK, SHORT_KEY, mask_credentials
from tui_chat.core.runner import Ended
from tui_chat.core.status import END_STATUSES, EndStatus


class RecordingError(ValueError):
    """A recording that cannot be read, and the (1-based) line that says why."""

    def __init__(self, path: Path, line: int, problem: str) -> None:
        super().__init__(f"{path}, line {line}: {problem}")
        self.path = path
        self.line = line
        self.problem = problem


# -- masking ------------------------------------------------------------------------------

#: Field, header and parameter names whose value is a credential.
_CREDENTIAL_NAME = re.compile(
    r"(?i)^(?:proxy-)?authorization$|^key$|api[-_]?key|token|secret|password"
)
#: Field names whose strings are the reply's own text, in every protocol's payloads.
_REPLY_TEXT_NAMES = frozenset({"text", "delta", "content", "output_text", "refusal"})


def _masked(
    value: Any, secrets: Collection[str], *, credential: bool = False, reply: bool = False
) -> Any:
    """`value` (a recording line or payload) with secrets masked in its strings only, so
    its structure, and every field name a reader relies on, stays as it was.

    `reply` marks the reply's own text: a field named like `_REPLY_TEXT_NAMES`, or a
    payload or response that is a bare string (the backend's raw chunks and answers),
    and all beneath them.
    """
    if isinstance(value, str):
        return mask_credentials(value, secrets, credential=credential, reply=reply)
    if isinstance(value, dict):
        return {
            _masked_name(name, secrets): _masked(
                item,
                secrets,
                credential=isinstance(name, str) and bool(_CREDENTIAL_NAME.search(name)),
                reply=reply
                or name in _REPLY_TEXT_NAMES
                or (name in ("payload", "response") and isinstance(item, str)),
            )
            for name, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_masked(item, secrets, reply=reply) for item in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return _masked(str(value), secrets, reply=reply)  # as json.dumps(default=str) writes it


def _masked_name(name: Any, secrets: Collection[str]) -> Any:
    """A field name loses only a long key: a short one would rename fields ("te***t")."""
    if isinstance(name, str):
        for secret in secrets:
            if len(secret) >= SHORT_KEY:
                name = name.replace(secret, MASK)
    return name


# -- writing ------------------------------------------------------------------------------


class Recording:
    """An open recording file; `reply()` starts recording one reply into it.

    A write that fails (disk full, file removed) stops the recording, not the chat:
    the reason is kept in `error` and passed once to `on_error`.
    """

    def __init__(
        self,
        file: TextIO,
        path: Path,
        *,
        secret: str | None = None,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        self.path = path
        self.error: str | None = None
        self._file: TextIO | None = file
        self._secrets: set[str] = {secret} if secret else set()
        self._on_error = on_error
        self._lock = threading.Lock()  # a local model may tap from its thread
        self._next_id = 1

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        secret: str | None = None,
        on_error: Callable[[str], None] | None = None,
    ) -> Recording:
        """Open `path` for appending (created if missing); raises OSError if it cannot.

        `secret` (the API key) is masked wherever it could appear (`mask_credentials`).
        A new file is created 0600, like the history database.
        """
        path = Path(path)
        file = open_private(path, "a")
        try:
            if file.tell() > 0 and not _ends_with_newline(path):
                file.write("\n")  # a torn last line must not swallow our first one
        except OSError:
            file.close()
            raise
        return cls(file, path, secret=secret, on_error=on_error)

    def reply(self, request: ChatRequest, protocol: str) -> ReplyRecorder:
        """Start recording one reply: call it just before `provider.stream(request, ...)`.

        `protocol` is the provider's name. The header line goes out with the first event
        and takes that event's protocol, so recording a replay names the protocol that
        was originally recorded, not "replay".
        """
        with self._lock:
            reply_id = self._next_id
            self._next_id += 1
        header: dict[str, Any] = {
            "type": "reply",
            "id": reply_id,
            "protocol": protocol,
            "model": request.model,
            "prompt": request.prompt,
            "started": datetime.now().astimezone().isoformat(timespec="milliseconds"),
        }
        if request.system:
            header["system"] = request.system
        return ReplyRecorder(self, header, time.monotonic())

    def _write(self, line: dict[str, Any]) -> None:
        if self._secrets:
            line = _masked(line, tuple(self._secrets))
        try:
            text = json.dumps(line, ensure_ascii=False, default=str)
            text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate from a split emoji: escape it instead
            text = json.dumps(line, default=str)
        with self._lock:
            if self._file is None:
                return
            try:
                self._file.write(text + "\n")
                self._file.flush()
            except OSError as error:
                self._fail(error)

    def _fail(self, error: OSError) -> None:
        self.error = f"Recording to {self.path} stopped: {error}"
        file, self._file = self._file, None
        try:
            if file is not None:
                file.close()
        except OSError:
            pass
        if self._on_error is not None:
            self._on_error(self.error)

    def mask(self, secret: str | None) -> None:
        """Mask this key from now on too (the app switched to another key)."""
        if secret:
            self._secrets.add(secret)

    @property
    def closed(self) -> bool:
        return self._file is None

    def close(self) -> None:
        with self._lock:
            file, self._file = self._file, None
        if file is not None:
            try:
                file.close()
            except OSError:
                pass

    def __enter__(self) -> Recording:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as raw:
        raw.seek(-1, os.SEEK_END)
        return raw.read(1) == b"\n"


class ReplyRecorder:
    """Records one reply: `tap` is the provider's WireTap, `end()` writes the last line.

    Also a context manager that ends the reply by how the block ended: normally
    "complete" (with `usage` if set), by cancellation or Ctrl+C "stopped", by an
    exception "error" with its message. The exception is never swallowed.
    """

    def __init__(self, recording: Recording, header: dict[str, Any], started: float) -> None:
        self.recording = recording
        self.reply_id: int = header["id"]
        #: `time.monotonic()` when the request was sent: every `t` counts from here.
        self.started = started
        #: Set from `Done.usage` to have the context manager record it.
        self.usage: Usage | None = None
        self.ended = False
        self._header: dict[str, Any] | None = header

    def _begin(self, protocol: str | None = None) -> None:
        header, self._header = self._header, None
        if header is not None:
            if protocol:
                header["protocol"] = protocol
            self.recording._write(header)

    def tap(self, event: WireEvent) -> None:
        """The WireTap to pass to `provider.stream(request, tap=...)`."""
        if self.ended:
            return
        if self._header is not None:
            self._begin(event.protocol)
        self.recording._write(
            {
                "type": "event",
                "reply": self.reply_id,
                "t": round(event.at - self.started, 6),
                "kind": event.kind,
                "payload": event.payload,
                "text": event.text,
            }
        )

    def end(
        self,
        status: EndStatus,
        *,
        error: str | None = None,
        error_kind: str | None = None,
        usage: Usage | None = None,
    ) -> None:
        """Write the end line; only the first call counts."""
        if self.ended:
            return
        self.ended = True
        self._begin()
        line: dict[str, Any] = {
            "type": "end",
            "reply": self.reply_id,
            "t": round(time.monotonic() - self.started, 6),
            "status": status,
        }
        if error is not None:
            line["error"] = error
        if error_kind is not None:
            line["error_kind"] = error_kind
        if usage is not None:
            line["usage"] = {
                "input_tokens": usage.input_tokens,
                "output_tokens": usage.output_tokens,
            }
        self.recording._write(line)

    def on_progress(self, text: str) -> None:
        """Nothing to do: every event is written as it arrives (the reply runner's sink)."""

    def on_end(self, ended: Ended) -> None:
        """The reply runner's end of the reply."""
        self.end(ended.status, error=ended.error, error_kind=ended.error_kind, usage=ended.usage)

    def end_with(self, exc: BaseException | None) -> None:
        """End by an outcome: None is complete, a cancellation is stopped, else error."""
        if exc is None:
            self.end("complete", usage=self.usage)
        elif isinstance(exc, asyncio.CancelledError | KeyboardInterrupt | GeneratorExit):
            self.end("stopped")
        elif isinstance(exc, ProviderError):
            self.end("error", error=exc.message, error_kind=exc.kind)
        else:
            self.end("error", error=f"{type(exc).__name__}: {exc}")

    def __enter__(self) -> ReplyRecorder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.end_with(exc)


# -- reading ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    t: float
    kind: str
    payload: Any
    text: str = ""


@dataclass(frozen=True, slots=True)
class RecordedEnd:
    t: float
    status: EndStatus
    error: str | None = None
    error_kind: str | None = None
    usage: Usage | None = None


@dataclass(slots=True)
class RecordedReply:
    protocol: str
    model: str
    prompt: str
    started: str
    #: Where its header is, for messages about it.
    line: int
    events: list[RecordedEvent] = field(default_factory=list)
    #: None when the recording stops before the reply ended (the recorder crashed).
    end: RecordedEnd | None = None

    @property
    def text(self) -> str:
        return "".join(event.text for event in self.events)


def read_recording(path: str | os.PathLike[str]) -> list[RecordedReply]:
    """Every reply in a recording, in the order they started.

    Raises RecordingError naming the line for anything malformed, and OSError if the
    file cannot be read.
    """
    path = Path(path)
    replies: list[RecordedReply] = []
    open_by_id: dict[Any, RecordedReply] = {}
    latest: RecordedReply | None = None
    with path.open("rb") as file:
        for number, raw in enumerate(file, 1):
            if not raw.strip():
                continue
            line = _parse(raw, path, number)
            kind = line["type"]
            if kind == "reply":
                latest = _header(line, path, number)
                replies.append(latest)
                open_by_id[_reply_id(line, "id", path, number)] = latest
                continue
            if "reply" in line:
                reply = open_by_id.get(_reply_id(line, "reply", path, number))
                if reply is None:
                    problem = f"an {kind!r} line for reply {line['reply']!r}, which has no header"
                    raise RecordingError(path, number, problem)
            elif latest is None:
                raise RecordingError(path, number, f"an {kind!r} line before any reply header")
            else:
                reply = latest
            if reply.end is not None:
                problem = f"an {kind!r} line after its reply (line {reply.line}) ended"
                raise RecordingError(path, number, problem)
            if kind == "event":
                reply.events.append(_event(line, path, number))
            else:
                reply.end = _end(line, path, number)
    return replies


def _parse(raw: bytes, path: Path, number: int) -> dict[str, Any]:
    try:
        line = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise RecordingError(path, number, "not UTF-8 text") from None
    except ValueError:
        raise RecordingError(path, number, "not a JSON line") from None
    if not isinstance(line, dict):
        raise RecordingError(path, number, "not a JSON object")
    if line.get("type") not in ("reply", "event", "end"):
        raise RecordingError(
            path, number, f"unknown line type {line.get('type')!r} (reply, event or end)"
        )
    return line


def _field(line: dict[str, Any], name: str, types: Any, path: Path, number: int) -> Any:
    value = line.get(name)
    if not isinstance(value, types) or isinstance(value, bool):
        raise RecordingError(path, number, f"{line['type']} line without a valid {name!r}")
    return value


def _header(line: dict[str, Any], path: Path, number: int) -> RecordedReply:
    return RecordedReply(
        protocol=_field(line, "protocol", str, path, number),
        model=str(line.get("model") or ""),
        prompt=str(line.get("prompt") or ""),
        started=str(line.get("started") or ""),
        line=number,
    )


def _reply_id(line: dict[str, Any], name: str, path: Path, number: int) -> int | str | None:
    value = line.get(name)
    if value is not None and not isinstance(value, int | str):
        raise RecordingError(path, number, f"{line['type']} line whose {name!r} is not an id")
    return value


def _time(line: dict[str, Any], path: Path, number: int) -> float:
    try:
        t = float(_field(line, "t", (int, float), path, number))
    except OverflowError:
        t = float("inf")
    if not 0 <= t < float("inf"):
        raise RecordingError(path, number, f"{line['type']} line with a negative or infinite 't'")
    return t


def _event(line: dict[str, Any], path: Path, number: int) -> RecordedEvent:
    text = line.get("text", "")
    if not isinstance(text, str):
        raise RecordingError(path, number, "event line whose 'text' is not a string")
    return RecordedEvent(
        t=_time(line, path, number),
        kind=_field(line, "kind", str, path, number),
        payload=line.get("payload"),
        text=text,
    )


def _end(line: dict[str, Any], path: Path, number: int) -> RecordedEnd:
    status = line.get("status")
    if status not in END_STATUSES:
        raise RecordingError(
            path, number, f"end line with status {status!r} ({', '.join(END_STATUSES)})"
        )
    error = line.get("error")
    error_kind = line.get("error_kind")
    if error is not None and not isinstance(error, str):
        raise RecordingError(path, number, "end line whose 'error' is not a string")
    if error_kind is not None and not isinstance(error_kind, str):
        raise RecordingError(path, number, "end line whose 'error_kind' is not a string")
    return RecordedEnd(
        t=_time(line, path, number),
        status=status,
        error=error,
        error_kind=error_kind,
        usage=_usage(line.get("usage"), path, number),
    )


def _usage(value: Any, path: Path, number: int) -> Usage | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise RecordingError(path, number, "end line whose 'usage' is not an object")
    counts = [value.get("input_tokens"), value.get("output_tokens")]
    if any(c is not None and (not isinstance(c, int) or isinstance(c, bool)) for c in counts):
        raise RecordingError(path, number, "end line whose token counts are not integers")
    return Usage(input_tokens=counts[0], output_tokens=counts[1])
