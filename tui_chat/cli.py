"""Command line: `tui-chat` (the TUI), `tui-chat ask` (one-shot) and `tui-chat serve`.

Precedence is `.env` < environment < flags. Exit status, for every command: 0 when it
did what was asked; 2 for a usage error, a flag or argument it cannot act on (malformed,
or naming something that is not there: a conversation ID, a file that is not a
recording, `--speed` without `--replay`), said in one line before anything is sent;
1 for a failure while running (history unreadable, a provider error, the app crashing);
130 for Ctrl+C. Never 0 after a failure, never a traceback for a usage error.
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from tui_chat import __version__
from tui_chat.settings.config import (
    APIS,
    Settings,
    base_url_problem,
    env_changes,
    load_environment,
    with_default_api,
)
from tui_chat.settings.profiles import ConfigError, ConfigFile, load_config

if TYPE_CHECKING:
    from tui_chat.history import HistoryStore

SUBCOMMANDS = ("ask", "serve", "history", "web")


class _Parser(argparse.ArgumentParser):
    """An argparse parser whose errors are one line, not usage plus a message, and
    whose --help names the provider and model that would run here and now."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")

    def format_help(self) -> str:
        effective = _effective_defaults()
        for action in self._actions:
            if effective is not None and action.dest == "api":
                action.help = f"{API_HELP}; here: {effective.api}"
            elif effective is not None and action.dest == "model":
                action.help = f"model name (default here: {effective.model})"
        return super().format_help()


API_HELP = "wire protocol (default: responses with a key or --base-url, else local)"


def _effective_defaults() -> Settings | None:
    """What runs without flags, from `.env`, the environment and config.toml (which
    `--help` must not fail over: then it shows the general rule)."""
    try:
        args = build_parser("chat")["chat"].parse_args([])
        return resolve_settings(args, load_environment(), load_config())
    except (ConfigError, OSError, SystemExit):
        return None


def _base_url(value: str) -> str:
    if problem := base_url_problem(value):
        raise argparse.ArgumentTypeError(f"invalid URL {value!r}: {problem}")
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


def _conversation_id(value: str) -> str:
    if value != "last" and not value.lstrip("#").isdigit():
        raise argparse.ArgumentTypeError(f"{value!r} is not a conversation ID (a number)")
    return value


def _port(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number") from None
    if not 0 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port (0 to 65535)")
    return number


def _url_token(value: str) -> str:
    if not value or not all(c.isascii() and (c.isalnum() or c in "-._~") for c in value):
        raise argparse.ArgumentTypeError("use letters, digits and - . _ ~ only")
    return value


def _local_model_path(value: str) -> Path:
    if not value.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return Path(value).expanduser()


def local_model_problem(settings: Settings) -> str | None:
    """Why the local model file cannot run, in one line, or None: checked at start-up,
    so a wrong path is not found out at the first prompt."""
    if settings.api != "local" or settings.local_model is None:
        return None
    from tui_chat.core.sanitize import clean
    from tui_chat.local_model.common import ModelLoadError
    from tui_chat.local_model.gguf_meta import read_chat_model_info

    path = settings.local_model
    if not path.is_file():
        what = "is a directory" if path.is_dir() else "does not exist"
        return clean(f"local model {path} {what}")
    try:
        read_chat_model_info(path)
    except ModelLoadError as error:
        return clean(str(error))
    return None


def _speed(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not number > 0:  # also rejects nan
        raise argparse.ArgumentTypeError(f"{value} is not above 0 (use inf for no delays)")
    return number


def _timeout(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds") from None
    if not 0 < number < float("inf"):  # also rejects nan
        raise argparse.ArgumentTypeError(f"{value} is not a number of seconds above 0")
    return number


def _recording_to_replay(value: str) -> Path:
    """A recording that can be read, checked before the app starts: a wrong file (say
    README.md) is a usage error, not a failure found at the first prompt."""
    from tui_chat.recordings.recording import RecordingError, read_recording

    path = Path(value)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"no recording at {value}")
    try:
        read_recording(path)  # an empty one is read, and says so at the first reply
    except RecordingError as error:
        raise argparse.ArgumentTypeError(
            f"{value} is not a recording (line {error.line}: {error.problem})"
        ) from None
    except OSError as error:
        reason = error.strerror or error
        raise argparse.ArgumentTypeError(f"cannot read {value}: {reason}") from None
    return path


def _recording_to_write(value: str) -> Path:
    path = Path(value)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{value} is a directory")
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"no directory {path.parent} to write {path.name} in")
    return path


def _add_provider_flags(parser: argparse.ArgumentParser, *, recording: bool = True) -> None:
    group = parser.add_argument_group("provider")
    group.add_argument(
        "--api",
        choices=APIS,
        help=API_HELP,
    )
    group.add_argument(
        "--base-url", type=_base_url, help="server URL (OpenAI-compatible or backend)"
    )
    group.add_argument(
        "--model",
        type=_non_empty,
        help="model name (default: gpt-4o-mini, or the local model without a key)",
    )
    group.add_argument("--system", help="system prompt")
    group.add_argument("--temperature", type=_temperature, help="sampling temperature, 0 to 2")
    group.add_argument(
        "--reasoning-summary",
        action="store_true",
        help="ask a reasoning model (Responses API) for summaries of its thinking",
    )
    group.add_argument("--profile", type=_non_empty, help="a profile from config.toml")
    group.add_argument(
        "--timeout",
        type=_timeout,
        metavar="SECONDS",
        help="fail a reply after this long without data from the server (default 30)",
    )
    group.add_argument(
        "--local-model",
        type=_local_model_path,
        metavar="PATH",
        help="run this chat GGUF file as the local model, with its own chat template"
        " (implies --api local)",
    )
    if not recording:
        return
    group.add_argument(
        "--record",
        type=_recording_to_write,
        metavar="FILE.jsonl",
        help="append every reply's raw wire events to this file",
    )
    group.add_argument(
        "--replay",
        type=_recording_to_replay,
        metavar="FILE.jsonl",
        help="play replies from a recording instead of a server (overrides --api)",
    )
    group.add_argument(
        "--speed",
        type=_speed,
        help="replay speed: 2 is twice as fast, inf without delays (default 1)",
    )


def build_parser(*only: str) -> dict[str, argparse.ArgumentParser]:
    """The parsers by command name: all of them, or the `only` ones asked for (a start
    of the app need not import the history command's module to build its parser)."""
    parsers: dict[str, argparse.ArgumentParser] = {}
    for name, build in _BUILDERS.items():
        if not only or name in only:
            parsers[name] = build()
    return parsers


def _chat_parser() -> argparse.ArgumentParser:
    chat = _Parser(
        prog="tui-chat",
        description="A terminal chat client that streams LLM replies word by word. "
        "Subcommands: 'tui-chat ask', 'tui-chat serve', 'tui-chat history', 'tui-chat web' "
        "(each has --help).",
    )
    chat.add_argument("--version", action="version", version=f"tui-chat {__version__}")
    _add_provider_flags(chat)
    chat.add_argument("--no-stream", action="store_true", help="start with streaming off")
    chat.add_argument("--no-history", action="store_true", help="do not read or write history")
    compare = chat.add_mutually_exclusive_group()
    compare.add_argument(
        "--compare", action="store_true", help="open compare mode: streaming vs non-streaming"
    )
    compare.add_argument(
        "--compare-models", nargs=2, metavar=("LEFT", "RIGHT"), help="race two models"
    )
    compare.add_argument(
        "--compare-profiles", nargs=2, metavar=("LEFT", "RIGHT"), help="race two profiles"
    )
    chat.add_argument(
        "--resume",
        nargs="?",
        const="last",
        type=_conversation_id,
        metavar="ID",
        help="reopen the latest conversation, or the one with this ID",
    )
    return chat


def _ask_parser() -> argparse.ArgumentParser:
    ask = _Parser(prog="tui-chat ask", description="Send one prompt; stream the reply to stdout.")
    _add_provider_flags(ask)
    ask.add_argument("--no-stream", action="store_true", help="print the whole reply at once")
    ask.add_argument(
        "--show-reasoning",
        action="store_true",
        help="stream the model's reasoning to stderr (stdout keeps only the answer)",
    )
    ask.add_argument("prompt", nargs="?", help="the prompt; '-' or piped stdin reads stdin")
    return ask


def _serve_parser() -> argparse.ArgumentParser:
    serve = _Parser(prog="tui-chat serve", description="Serve the chat backend protocol over HTTP.")
    _add_provider_flags(serve, recording=False)
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8000, help="port (default 8000)")

    def byte_count(value: str) -> int:
        if not value.isdigit() or int(value) < 1:
            raise argparse.ArgumentTypeError(f"{value!r} is not a number of bytes above 0")
        return int(value)

    serve.add_argument(
        "--max-body",
        type=byte_count,
        default=1_000_000,
        metavar="BYTES",
        help="largest request body accepted, else 413 (default 1000000)",
    )
    return serve


def _history_parser() -> argparse.ArgumentParser:
    from tui_chat.history.cli import add_arguments as add_history_arguments

    history = _Parser(
        prog="tui-chat history",
        description="List, show, export, delete and search saved conversations.",
    )
    add_history_arguments(history)
    return history


def _web_parser() -> argparse.ArgumentParser:
    web = _Parser(
        prog="tui-chat web",
        description="Serve the chat app to browsers, one app process per tab. Every other "
        "flag is a tui-chat flag (see tui-chat --help) and applies to each tab's app.",
        allow_abbrev=False,  # an app flag such as --ho... must not be taken for --host
    )
    web.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine)"
    )
    web.add_argument("--port", type=_port, default=8000, help="port (default 8000)")
    web.add_argument(
        "--token", type=_url_token, help="the token the URL must carry (default: a random one)"
    )
    return web


_BUILDERS = {
    "chat": _chat_parser,
    "ask": _ask_parser,
    "serve": _serve_parser,
    "history": _history_parser,
    "web": _web_parser,
}


def settings_from_args(args: argparse.Namespace, base: Settings) -> Settings:
    changes: dict[str, object] = {}
    if args.api:
        changes.update(api=args.api, api_defaulted=False)
    for name in ("base_url", "model", "system", "temperature", "timeout"):
        value = getattr(args, name, None)
        if value is not None:
            changes[name] = value
    if args.model is not None:
        changes["model_defaulted"] = False
    if getattr(args, "no_stream", False):
        changes["stream"] = False
    if getattr(args, "no_history", False):
        changes["history"] = False
    if getattr(args, "reasoning_summary", False):
        changes["reasoning_summary"] = True
    for name in ("record", "speed"):
        value = getattr(args, name, None)
        if value is not None:
            changes[name] = value
    if (local_model := getattr(args, "local_model", None)) is not None:
        changes["local_model"] = local_model
        if not args.api:
            changes.update(api="local", api_defaulted=False)
        if args.model is None:
            changes.update(model=local_model.name, model_defaulted=False)
    if (replay := getattr(args, "replay", None)) is not None:
        changes.update(replay=replay, api="replay", api_defaulted=False)
    return base.with_(**changes)


def resolve_settings(
    args: argparse.Namespace, env: Mapping[str, str], config: ConfigFile
) -> Settings:
    """Layer defaults < default_profile < environment < --profile < flags.

    `env` may be a `config.Environment`, which knows what came from `.env`: the key check
    runs once every layer is on (a flag's --base-url may still replace a `.env` one).
    """
    settings = Settings(api_defaulted=True, model_defaulted=True)
    chosen = getattr(args, "profile", None)
    key_profile = None  # the profile that named the key variable, for a missing key
    if config.default_profile and not chosen:
        profile = config.profile(config.default_profile)
        settings = settings.layer(profile=profile.name, **profile.settings_changes(env))
        key_profile = profile if profile.api_key_env else None
    from_env = env_changes(env)
    if settings.api_key_env != "OPENAI_API_KEY":
        from_env.pop("api_key", None)  # the profile named its own key variable
        from_env.pop("api_key_from", None)
    settings = settings.layer(**from_env)
    if chosen:
        profile = config.profile(chosen)
        settings = settings.layer(profile=profile.name, **profile.settings_changes(env))
        key_profile = profile if profile.api_key_env else None
    settings = settings_from_args(args, settings)
    if settings.api not in APIS and settings.replay is None:
        raise ConfigError(f"TUI_CHAT_API={settings.api!r} is not one of {', '.join(APIS)}")
    settings = with_default_api(settings)
    if key_profile is not None:
        config.check_key(key_profile, settings)
    return settings


def _fail(message: str, status: int) -> int:
    print(f"tui-chat: error: {message}", file=sys.stderr)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """The console script. Ctrl+C at any moment (start-up included) is status 130, not a
    traceback."""
    try:
        return _main(argv)
    except KeyboardInterrupt:
        return 130
    finally:
        gc.enable()  # off while the app starts (`_run_app`), whatever ended it


def _main(argv: Sequence[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv and argv[0] in SUBCOMMANDS else "chat"
    if command != "chat":
        argv = argv[1:]
    parsers = build_parser(command, "chat")  # web takes the app's flags too
    if command == "web":  # its own flags, then the app's, checked before anything listens
        web_args, app_argv = parsers["web"].parse_known_args(argv)
        args = parsers["chat"].parse_args(app_argv)
    else:
        args = parsers[command].parse_args(argv)
    if getattr(args, "speed", None) is not None and getattr(args, "replay", None) is None:
        return _fail("--speed needs --replay FILE.jsonl: it sets the replay's pace", 2)
    if command == "history":  # needs no provider settings or .env
        from tui_chat.history.cli import run_history

        return run_history(args)
    try:
        env = load_environment()  # .env is read, never merged into os.environ
        config = load_config()
        settings = resolve_settings(args, env, config)
    except ConfigError as error:
        return _fail(str(error), 2)
    if problem := local_model_problem(settings):
        return _fail(problem, 2)
    if settings.key_withheld and command in ("ask", "serve"):  # the app shows it itself
        print(f"tui-chat: {settings.key_withheld}", file=sys.stderr, flush=True)

    if command == "ask":
        from tui_chat.ask import run_ask

        return run_ask(settings, args.prompt, show_reasoning=args.show_reasoning)
    if command == "serve":
        from tui_chat.serve import run_serve

        return run_serve(settings, host=args.host, port=args.port, max_body=args.max_body)

    try:
        compare = compare_contenders(args, settings, config, env)
    except ConfigError as error:
        return _fail(str(error), 2)
    if command == "web":
        import secrets

        from tui_chat.web import run_web

        token = web_args.token or secrets.token_urlsafe(16)
        return run_web(app_argv, host=web_args.host, port=web_args.port, token=token)
    return _run_app(settings, config, args.resume, compare)


Contenders = tuple[tuple[str, Settings], tuple[str, Settings]]


def compare_contenders(
    args: argparse.Namespace, settings: Settings, config: ConfigFile, env: Mapping[str, str]
) -> Contenders | None:
    """The two sides of `--compare*`, labelled for the panes and the verdict."""
    if args.compare:
        return ("streaming", settings.with_(stream=True)), (
            "non-streaming",
            settings.with_(stream=False),
        )
    if args.compare_models:
        left, right = args.compare_models
        return (left, settings.with_(model=left, stream=True)), (
            right,
            settings.with_(model=right, stream=True),
        )
    if args.compare_profiles:
        sides = []
        for name in args.compare_profiles:
            profile = config.profile(name)
            side = settings.with_(stream=True, **profile.settings_changes(env))
            config.check_key(profile, side)
            sides.append((name, side))
        return sides[0], sides[1]
    return None


def _run_app(
    settings: Settings, config: ConfigFile, resume: str | None, compare: Contenders | None
) -> int:
    # No collections until the first frame is out (`_tune_gc`): start-up makes objects
    # that live for the whole run, and scanning them cost tens of ms before the prompt.
    gc.disable()
    from tui_chat.history import HistoryError, HistoryStore

    if resume is not None and not settings.history:
        return _fail("--resume needs history; drop --no-history", 2)
    # Opened on a thread while Textual is imported: SQLite does its work (and its fsync)
    # outside the interpreter lock, so that much is off the way to the first frame.
    opening = None
    if settings.history:
        pool = ThreadPoolExecutor(1, thread_name_prefix="tui-chat-history")
        opening = pool.submit(HistoryStore.open)
        pool.shutdown(wait=False)  # the open goes on; `opening.result()` waits for it
    from tui_chat.history.saver import history_off_notice, read_only_notice
    from tui_chat.ui.app import ChatApp

    store = None
    # Said in the chat: a line on stderr is hidden behind the alternate screen.
    notice = None
    if opening is not None:
        try:
            store = opening.result()
        except HistoryError as error:
            if resume is not None:
                return _fail(f"cannot open history: {error}", 1)
            notice = history_off_notice(error)
            print(f"tui-chat: {notice}", file=sys.stderr)  # still there after quitting
        else:
            notice = read_only_notice(store)
    try:
        resume_id = None
        if resume is not None and store is not None:
            try:
                resume_id = _resume_id(store, resume)
            except HistoryError as error:
                return _fail(f"cannot read history: {error}", 1)
            if resume_id is None:  # the flag names nothing there: a usage error
                return _fail(
                    "no saved conversations yet"
                    if resume == "last"
                    else f"no conversation {resume} (see 'tui-chat history list')",
                    2,
                )
        app = ChatApp(
            settings,
            config=config,
            store=store,
            resume=resume_id,
            compare=compare,
            history_notice=notice,
        )
        app.after_first_frame = _tune_gc
        app.run()
    finally:
        if store is not None:
            store.close()
    # Textual sets 1 when the app ended on an unhandled error (it printed the traceback).
    return app.return_code or 0


def _tune_gc() -> None:
    """Once the prompt is drawn: freeze what start-up made and collect again, young
    objects as they come and full passes at quiet moments (`ui/gc_tuning.py`)."""
    from tui_chat.ui.gc_tuning import tune_gc

    tune_gc()


def _resume_id(store: HistoryStore, resume: str) -> int | None:
    if resume == "last":
        return store.latest_id()
    try:
        wanted = int(resume.lstrip("#"))
    except ValueError:
        return None
    return wanted if store.get_conversation(wanted) is not None else None
