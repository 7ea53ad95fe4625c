"""Command line: `tui-chat` (the TUI), `tui-chat ask` (one-shot) and `tui-chat serve`.

Precedence is `.env` < environment < flags. Bad flags end with one line on stderr
and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn
from urllib.parse import urlparse

from tui_chat import __version__
from tui_chat.config import APIS, Settings, load_dotenv_file, settings_from_env

SUBCOMMANDS = ("ask", "serve", "history")


class _Parser(argparse.ArgumentParser):
    """An argparse parser whose errors are one line, not usage plus a message."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _base_url(value: str) -> str:
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise argparse.ArgumentTypeError(
            f"invalid URL {value!r}: expected http://host[:port][/path]"
        )
    return value.rstrip("/")


def _non_empty(value: str) -> str:
    if not value.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return value


def _temperature(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not 0.0 <= number <= 2.0:
        raise argparse.ArgumentTypeError(f"{value} is outside 0 to 2")
    return number


def _add_provider_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("provider")
    group.add_argument("--api", choices=APIS, help="wire protocol (default: responses)")
    group.add_argument(
        "--base-url", type=_base_url, help="server URL (OpenAI-compatible or backend)"
    )
    group.add_argument("--model", type=_non_empty, help="model name (default: gpt-4o-mini)")
    group.add_argument("--system", help="system prompt")
    group.add_argument("--temperature", type=_temperature, help="sampling temperature, 0 to 2")


def build_parser() -> dict[str, argparse.ArgumentParser]:
    chat = _Parser(
        prog="tui-chat",
        description="A terminal chat client that streams LLM replies word by word. "
        "Subcommands: 'tui-chat ask', 'tui-chat serve' (each has --help).",
    )
    chat.add_argument("--version", action="version", version=f"tui-chat {__version__}")
    _add_provider_flags(chat)
    chat.add_argument("--no-stream", action="store_true", help="start with streaming off")
    chat.add_argument("--no-history", action="store_true", help="do not read or write history")

    ask = _Parser(prog="tui-chat ask", description="Send one prompt; stream the reply to stdout.")
    _add_provider_flags(ask)
    ask.add_argument("--no-stream", action="store_true", help="print the whole reply at once")
    ask.add_argument("prompt", nargs="?", help="the prompt; '-' or piped stdin reads stdin")

    serve = _Parser(prog="tui-chat serve", description="Serve the chat backend protocol over HTTP.")
    _add_provider_flags(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    from tui_chat.history.cli import add_arguments as add_history_arguments

    history = _Parser(
        prog="tui-chat history",
        description="List, show, export, delete and search saved conversations.",
    )
    add_history_arguments(history)
    return {"chat": chat, "ask": ask, "serve": serve, "history": history}


def settings_from_args(args: argparse.Namespace, base: Settings) -> Settings:
    changes: dict[str, object] = {}
    if args.api:
        changes.update(api=args.api, api_defaulted=False)
    for name in ("base_url", "model", "system", "temperature"):
        value = getattr(args, name, None)
        if value is not None:
            changes[name] = value
    if getattr(args, "no_stream", False):
        changes["stream"] = False
    if getattr(args, "no_history", False):
        changes["history"] = False
    return base.with_(**changes)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv and argv[0] in SUBCOMMANDS else "chat"
    if command != "chat":
        argv = argv[1:]
    args = build_parser()[command].parse_args(argv)
    if command == "history":  # needs no provider settings or .env
        from tui_chat.history.cli import run_history

        return run_history(args)
    load_dotenv_file()
    settings = settings_from_args(args, settings_from_env())

    if command == "ask":
        from tui_chat.ask import run_ask

        return run_ask(settings, args.prompt)
    if command == "serve":
        from tui_chat.server import run_serve

        return run_serve(settings, host=args.host, port=args.port)

    from tui_chat.app import ChatApp

    ChatApp(settings).run()
    return 0
