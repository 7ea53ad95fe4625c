"""`tui-chat history list | show | export | delete | search`: the history from a shell.

Output is for people on a terminal (aligned columns, highlighted matches) and for
scripts in a pipe (tab-separated, `[`…`]` around matches). Model text is passed
through `tui_chat.core.sanitize.clean` before it is printed, so stored escape sequences
never reach a terminal; exports are cleaned by the exporters themselves, wherever they
go, and an export file is created 0600 like the database it comes from.
Read-only commands never create a database that is not there yet.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TextIO

from tui_chat.core.private_files import write_private
from tui_chat.core.sanitize import clean
from tui_chat.history.export import export_json, export_markdown
from tui_chat.history.models import SearchHit, StoredConversation
from tui_chat.history.schema import HistoryError
from tui_chat.history.store import HistoryStore, NotFoundError
from tui_chat.settings.paths import default_db_path

PROG = "tui-chat history"
_TITLE_CELLS = 60
_HIGHLIGHT = ("\x1b[7m", "\x1b[27m")  # reverse video on / off
_SPACES = re.compile(r"\s+")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the `history` subcommands to `parser` (the main CLI's `tui-chat history`)."""
    sub = parser.add_subparsers(dest="history_command", metavar="COMMAND", required=True)
    ls = sub.add_parser(
        "list",
        help="saved conversations, newest first",
        description="Saved conversations, most recently updated first: id, date, title, "
        "message count (tab-separated when not writing to a terminal).",
    )
    ls.add_argument("-n", "--limit", type=int, metavar="N", help="show at most N")

    show = sub.add_parser("show", help="print a conversation", description="Print a conversation.")
    show.add_argument("id", help="conversation id (or 'last')")

    export = sub.add_parser(
        "export",
        help="export a conversation as Markdown or JSON",
        description="Export a conversation as Markdown or JSON (control characters removed).",
    )
    export.add_argument("id", help="conversation id (or 'last')")
    export.add_argument("--format", choices=("md", "json"), default="md", help="default: md")
    export.add_argument(
        "-o", "--output", type=Path, metavar="FILE", help="write to FILE instead of stdout"
    )

    delete = sub.add_parser(
        "delete", help="delete a conversation", description="Delete a conversation (no prompt)."
    )
    delete.add_argument("id", help="conversation id (or 'last')")

    search = sub.add_parser(
        "search",
        help="full-text search over all chats' current messages",
        description="Messages containing every word of TEXT (whole words, any case); "
        "current ones only, not the earlier versions a retry or an edit replaced.",
    )
    search.add_argument("text", nargs="+", help="words to look for")


_Command = Callable[["HistoryStore | None", argparse.Namespace, TextIO, TextIO], None]


class _Failure(Exception):
    """Ends the command with one line on stderr and exit status 1."""

    status = 1


class _Unknown(_Failure):
    """An argument that names no conversation: a usage error, status 2, like a bad flag
    (and like `tui-chat --resume 99`)."""

    status = 2


def run_history(
    args: argparse.Namespace, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    out = sys.stdout if stdout is None else stdout
    err = sys.stderr if stderr is None else stderr
    command = _COMMANDS[args.history_command]
    path = default_db_path()
    store: HistoryStore | None = None
    try:
        if path.exists():  # never create a database just to say it is empty
            store = HistoryStore.open(path)
        command(store, args, out, err)
        out.flush()  # a closed pipe shows up here, not in an "Exception ignored" at exit
    except _Failure as exc:
        err.write(f"{PROG}: error: {exc}\n")
        return exc.status
    except HistoryError as exc:
        err.write(f"{PROG}: error: {exc}\n")
        return 1
    except BrokenPipeError:  # `tui-chat history list | head`: the reader has had enough
        if out is sys.stdout:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as exc:  # writing an export file
        err.write(f"{PROG}: error: {exc}\n")
        return 1
    finally:
        if store is not None:
            store.close()
    return 0


# -- helpers ---------------------------------------------------------------------------


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _one_line(text: str | None) -> str:
    return clean(" ".join((text or "").split()))


def _title(title: str | None) -> str:
    return _one_line(title) or "(untitled)"


def _local(moment: datetime) -> datetime:
    return moment.astimezone()


def _resolve(store: HistoryStore | None, raw: str) -> int:
    """A typed id: `12`, `#12`, or `last` for the most recently updated conversation."""
    text = raw.strip().lstrip("#")
    if text.lower() in ("last", "latest"):
        latest = store.latest_id() if store is not None else None
        if latest is None:
            raise _Unknown("there are no saved conversations")
        return latest
    if not text.isdecimal():
        raise _Unknown(f"no conversation {_one_line(raw)!r}: ids are numbers (see '{PROG} list')")
    return int(text)


def _load(store: HistoryStore | None, raw: str) -> StoredConversation:
    conv_id = _resolve(store, raw)
    conv = store.get_conversation(conv_id) if store is not None else None
    if conv is None:
        raise _Unknown(f"no conversation {conv_id} (see '{PROG} list')")
    return conv


def _cells(text: str) -> int:
    from rich.cells import cell_len  # rich comes with Textual; counts wide characters as 2

    return cell_len(text)


def _fit(text: str, width: int) -> str:
    """Cut `text` to `width` terminal cells, marking the cut with "…"."""
    if _cells(text) <= width:
        return text
    while text and _cells(text) > width - 1:
        text = text[:-1]
    return text + "…"


# -- commands --------------------------------------------------------------------------


def _list(store: HistoryStore | None, args: argparse.Namespace, out: TextIO, err: TextIO) -> None:
    rows = store.list_conversations(limit=args.limit) if store is not None else []
    if not _is_tty(out):
        for row in rows:
            when = _local(row.updated_at).isoformat(timespec="seconds")
            out.write(f"{row.id}\t{when}\t{_title(row.title)}\t{row.message_count}\n")
        return
    if not rows:
        out.write("No saved conversations.\n")
        return
    table = [
        (
            str(row.id),
            _local(row.updated_at).strftime("%Y-%m-%d %H:%M"),
            _fit(_title(row.title), _TITLE_CELLS),
            str(row.message_count),
        )
        for row in rows
    ]
    header = ("ID", "UPDATED", "TITLE", "MESSAGES")
    id_w = max(len(header[0]), *(len(r[0]) for r in table))
    date_w = max(len(header[1]), *(len(r[1]) for r in table))
    title_w = max(len(header[2]), *(_cells(r[2]) for r in table))
    for ident, when, title, count in (header, *table):
        pad = " " * (title_w - _cells(title))
        out.write(f"{ident:>{id_w}}  {when:<{date_w}}  {title}{pad}  {count:>8}".rstrip() + "\n")


def _show(store: HistoryStore | None, args: argparse.Namespace, out: TextIO, err: TextIO) -> None:
    conv = _load(store, args.id)
    created = _local(conv.created_at).strftime("%Y-%m-%d %H:%M")
    updated = _local(conv.updated_at).strftime("%Y-%m-%d %H:%M")
    lines = [f"Conversation {conv.id}: {_title(conv.title)}"]
    lines.append(f"Created {created}, updated {updated}")
    where = " · ".join(clean(part) for part in (conv.api, conv.model, conv.base_url) if part)
    lines.append(where)
    if conv.system:
        lines.append(f"System prompt: {clean(conv.system)}")
    for msg in conv.messages:
        head = f"── {msg.role} · {_local(msg.created_at).strftime('%Y-%m-%d %H:%M:%S')}"
        if msg.status != "complete":
            head += f" · {msg.status}"
        lines += ["", head]
        if msg.content:
            lines.append(clean(msg.content).rstrip("\n"))
        if msg.error:
            lines.append(f"[error: {_one_line(msg.error)}]")
    out.write("\n".join(lines) + "\n")


def _export(store: HistoryStore | None, args: argparse.Namespace, out: TextIO, err: TextIO) -> None:
    conv = _load(store, args.id)
    text = export_json(conv) if args.format == "json" else export_markdown(conv)
    if args.output is None:
        out.write(text)
        return
    write_private(args.output, text)
    err.write(f"Wrote conversation {conv.id} to {args.output}\n")


def _delete(store: HistoryStore | None, args: argparse.Namespace, out: TextIO, err: TextIO) -> None:
    conv = _load(store, args.id)
    assert store is not None  # _load found the conversation
    try:
        store.delete(conv.id)
    except NotFoundError:  # deleted by another process in between
        raise _Unknown(f"no conversation {conv.id} (see '{PROG} list')") from None
    count = len(conv.messages)
    noun = "message" if count == 1 else "messages"
    out.write(f"Deleted conversation {conv.id}: {_title(conv.title)} ({count} {noun})\n")


def _snippet(hit: SearchHit, *, tty: bool) -> str:
    """The snippet on one line, matches in reverse video on a terminal, else in `[`…`]`."""
    on, off = _HIGHLIGHT if tty and not os.environ.get("NO_COLOR") else ("[", "]")
    pieces = []
    for text, is_match in hit.parts():
        text = _SPACES.sub(" ", clean(text))
        pieces.append(f"{on}{text}{off}" if is_match else text)
    return "".join(pieces).strip()


def _search(store: HistoryStore | None, args: argparse.Namespace, out: TextIO, err: TextIO) -> None:
    text = " ".join(args.text)
    hits = store.search(text) if store is not None else []
    tty = _is_tty(out)
    if not hits:
        err.write(f"No messages match {_one_line(text)!r}.\n")
        return
    for hit in hits:
        snippet = _snippet(hit, tty=tty)
        if tty:
            out.write(
                f"{hit.conversation_id:>4}  {_title(hit.title)} ({hit.role})\n      {snippet}\n"
            )
        else:
            out.write(f"{hit.conversation_id}\t{_title(hit.title)}\t{hit.role}\t{snippet}\n")


_COMMANDS: dict[str, _Command] = {
    "list": _list,
    "show": _show,
    "export": _export,
    "delete": _delete,
    "search": _search,
}
