"""Text files attached to a prompt: read and check them, and put them in the message.

A prompt attaches a file with a line of its own, `/file PATH` (the rest of the line is
the path, so spaces need no quoting; `~` is the home directory, a relative path is from
the working directory). A line syntax rather than `@path` tokens: `@` is common in
prompts (e-mail addresses, decorators, handles) and would attach by accident.

How the model gets it: as part of the one user message, the typed text first and then
each file in a block of its own::

    <file path="notes/todo.txt" lines="12">
    ...the file's text...
    </file>

Every chat protocol takes that as plain text, so no provider changes. `lines` makes the
block exact to read back (`typed_form`), whatever the file holds, so recalling a sent
prompt gives back its `/file` lines, not the whole file.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from tui_chat.core.sanitize import clean

#: Largest file that may be attached, in bytes: a model's context (and a request body)
#: is finite, and 100 KB of text is already ~25k tokens.
MAX_ATTACHMENT_BYTES = 100 * 1024

_FILE_LINE = re.compile(r"^/file[ \t]+(?P<path>\S.*?)[ \t]*$")
_BLOCK_HEAD = re.compile(r'<file path="(?P<path>[^"]*)" lines="(?P<lines>\d+)">')


class AttachmentError(ValueError):
    """A file that cannot be attached; the message is one line saying which and why."""


@dataclass(frozen=True)
class Attachment:
    """A file read for the next prompt: its text goes to the model in a block."""

    path: str  # as the user wrote it: shown in the log and to the model
    text: str
    size: int  # bytes on disk

    @property
    def label(self) -> str:
        """The log's line under the prompt (ASCII "+": console fonts have no paperclip)."""
        return f"+ file: {self.path} ({human_size(self.size)})"


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    return f"{size / 1024:.1f} KB"


def read_attachment(path: str, *, cwd: Path | None = None) -> Attachment:
    """The file's text, or AttachmentError if it is missing, unreadable, too large or
    not text (a NUL byte, or not UTF-8)."""
    shown = clean(path)  # a pasted path may hold escape sequences; messages are shown
    where = Path(os.path.expanduser(path))
    if not where.is_absolute():
        where = (cwd or Path.cwd()) / where
    try:
        # Non-blocking open, then only a regular file is read: a FIFO or a terminal
        # device would otherwise hang the app waiting for its bytes.
        fd = os.open(where, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as file:
            mode = os.fstat(fd).st_mode
            if stat.S_ISDIR(mode):
                raise IsADirectoryError
            if not stat.S_ISREG(mode):
                raise AttachmentError(f"Not attached: {shown} is not a regular file")
            data = file.read(MAX_ATTACHMENT_BYTES + 1)
    except FileNotFoundError:
        raise AttachmentError(f"Not attached: {shown}: no such file") from None
    except IsADirectoryError:
        raise AttachmentError(f"Not attached: {shown} is a directory") from None
    except OSError as error:
        raise AttachmentError(
            f"Not attached: cannot read {shown}: {error.strerror or error}"
        ) from None
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise AttachmentError(
            f"Not attached: {shown} is larger than {MAX_ATTACHMENT_BYTES // 1024} KB"
        )
    if b"\x00" in data:
        raise AttachmentError(f"Not attached: {shown} is a binary file (only text can be attached)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise AttachmentError(f"Not attached: {shown} is not UTF-8 text") from None
    return Attachment(path=path, text=text, size=len(data))


def split_prompt(text: str) -> tuple[str, list[str]]:
    """The prompt without its `/file` lines, and the paths they name, in order."""
    kept: list[str] = []
    paths: list[str] = []
    for line in text.split("\n"):
        if match := _FILE_LINE.match(line):
            paths.append(match["path"])
        else:
            kept.append(line)
    return "\n".join(kept).strip("\n"), paths


def prepare(text: str, *, cwd: Path | None = None) -> tuple[str, list[Attachment]]:
    """The typed text and its files read, or AttachmentError for the first file that
    cannot be attached (then nothing is, and the prompt can stay as it was typed)."""
    typed, paths = split_prompt(text)
    return typed, [read_attachment(path, cwd=cwd) for path in paths]


def compose(typed: str, files: list[Attachment]) -> str:
    """The user message the model gets: the typed text, then one block per file."""
    if not files:
        return typed
    import html  # here: it loads HTML's entity table, 1.6 ms before the first frame

    blocks = [
        f'<file path="{html.escape(f.path)}" lines="{f.text.count(chr(10)) + 1}">\n'
        f"{f.text}\n</file>"
        for f in files
    ]
    return "\n\n".join(part for part in (typed, *blocks) if part)


def typed_form(sent: str) -> str:
    """A sent message as it was typed: its file blocks back to `/file` lines. A message
    that is not exactly `compose`'s output comes back unchanged."""
    if '<file path="' not in sent:  # most prompts: no need to split them into lines
        return sent
    lines = sent.split("\n")
    # Blocks are at the end; find where the first one starts by reading them forward
    # from each candidate head (a typed line may look like a head, so try each).
    for start, line in enumerate(lines):
        if not _BLOCK_HEAD.fullmatch(line) or (start > 0 and lines[start - 1] != ""):
            continue
        paths = _read_blocks(lines, start)
        if paths is not None:
            typed = lines[: start - 1] if start > 0 else []
            return "\n".join([*typed, *(f"/file {path}" for path in paths)])
    return sent


def _read_blocks(lines: list[str], at: int) -> list[str] | None:
    import html

    paths: list[str] = []
    while True:
        head = _BLOCK_HEAD.fullmatch(lines[at]) if at < len(lines) else None
        if head is None:
            return None
        end = at + 1 + int(head["lines"])
        if end >= len(lines) or lines[end] != "</file>":
            return None
        paths.append(html.unescape(head["path"]))
        if end == len(lines) - 1:
            return paths
        if lines[end + 1] != "" or end + 2 >= len(lines):
            return None
        at = end + 2
