"""`tui-chat ask`: one prompt in, the reply streamed to stdout as plain text.

Made for shells and scripts: stdout carries only the (sanitized) reply, stderr
only a one-line `tui-chat: ...` error, and the exit status says what happened
(0 ok, 1 provider error, 2 no prompt, 130 interrupted). Notes a person should see go
to stderr too: each retry while it waits ("retrying 1/2 in 2 s · server said 503"), a
reply that completed without any text, which still exits 0 (the request worked), and,
when stderr is a terminal, once, which provider and model answered: without a key the
tiny demo model answers, and its reply must not pass for a real model's.

A reasoning model's thinking never reaches stdout (a script wants the answer); with
`--show-reasoning` it streams to stderr as it comes. A refusal is printed like an
answer, and stderr says it was one.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable
from typing import TextIO

from tui_chat.core.protocol import (
    ChatMessage,
    ChatRequest,
    ProviderError,
    Retrying,
)
from tui_chat.core.redact import mask_credentials
from tui_chat.core.runner import Delta, Reasoning, ReplyEvent, ReplyRunner
from tui_chat.core.sanitize import clean
from tui_chat.recordings.recording import Recording
from tui_chat.settings.config import Settings, endpoint_host

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for Ctrl+C
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, e.g. `tui-chat ask ... | head -1`


class _Output:
    """stdout writer that sanitizes, flushes per delta and remembers the last character.

    Remembering the last character lets `finish()` end the output with exactly one
    newline, whether the reply completed, failed half-way or was interrupted.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._last = ""

    def write(self, text: str) -> None:
        text = clean(text)
        if text:
            self._stream.write(text)
            self._stream.flush()
            self._last = text[-1]

    @property
    def wrote(self) -> bool:
        """Whether any text reached stdout (an empty reply writes none)."""
        return bool(self._last)

    def finish(self) -> None:
        if self._last and self._last != "\n":
            self._last = "\n"
            self._stream.write("\n")
        self._stream.flush()


def read_prompt(prompt: str | None, stdin: TextIO) -> str | None:
    """Combine PROMPT and piped stdin: PROMPT first, a blank line, then stdin.

    `-` means "stdin only". Stdin is read only when it is not a terminal, so an
    interactive `tui-chat ask "hi"` never waits for input. Returns None when
    there is nothing to send.
    """
    piped = ""
    if prompt == "-" or not _isatty(stdin):
        piped = stdin.read().rstrip("\n")
    if prompt == "-":
        prompt = None
    parts = [part for part in (prompt, piped) if part and part.strip()]
    return "\n\n".join(parts) if parts else None


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed or not a real file
        return False


def _one_line(message: str, secret: str | None) -> str:
    """An error message safe for stderr: no key, no control characters, one line."""
    if secret:  # a short key ("x") only where a credential stands: "does not exist" stays
        message = mask_credentials(message, (secret,))
    return " ".join(clean(message).split()) or "unknown error"


async def _ask(
    settings: Settings,
    prompt: str,
    out: _Output,
    recording: Recording | None = None,
    note: Callable[[str], None] = lambda _: None,
    thinking: _Output | None = None,
) -> str:
    """Stream one reply to `out` (and its reasoning to `thinking`, if given); returns
    who answered (see `who_answered`)."""
    from tui_chat.providers import make_provider

    _wake_loop_on_sigint()
    request = ChatRequest(
        messages=(ChatMessage("user", prompt),),
        model=settings.model,
        system=settings.system,
        stream=settings.stream,
        temperature=settings.temperature,
        reasoning_summary=settings.reasoning_summary,
    )
    provider = make_provider(settings)
    wire = recording.reply(request, provider.name) if recording is not None else None

    def show(event: ReplyEvent) -> None:
        if isinstance(event, Delta):
            if thinking is not None:
                thinking.finish()  # the reasoning's last line ends before the answer's
            out.write(event.text)  # a non-streamed reply is one delta, the whole text
        elif isinstance(event, Reasoning):
            if thinking is not None:
                thinking.write(event.text)
        elif isinstance(event, Retrying):
            note(event.describe())

    try:
        ended = await ReplyRunner(provider).run(
            request,
            show,
            sinks=[wire] if wire is not None else [],
            taps=[wire.tap] if wire is not None else [],
        )
    finally:
        # On Ctrl+C the cancellation has already closed the HTTP stream; this releases
        # the client's connection pool.
        await provider.aclose()
    if thinking is not None:
        thinking.finish()
    if ended.status == "error":
        raise ProviderError(ended.error or "the reply failed", kind=ended.error_kind or "server")
    if ended.refusal:
        note("the model refused: what it said is its refusal")
    return who_answered(settings, provider.name)


def who_answered(settings: Settings, provider: str) -> str:
    """The line that says who answered, e.g. "answered by chat · llama3.2 ·
    localhost:11434" or "answered by local · SmolLM2-135M (tiny local demo model)"."""
    host = endpoint_host(settings)
    where = "" if host in ("local model", "") or host.startswith("replay ") else f" · {host}"
    return f"answered by {provider} · {settings.model}{where}"


def _wake_loop_on_sigint() -> None:
    """Hand asyncio.run's Ctrl+C handler to the loop's own signal handling.

    asyncio.run installs it with plain `signal.signal`, so no wakeup fd is set: a SIGINT
    that lands just before the loop blocks in select() (or on another thread) runs
    only when select() returns by itself, i.e. at the idle timeout, 30 s later.
    `add_signal_handler` sets the wakeup fd, so the loop wakes at once.
    """
    handler = signal.getsignal(signal.SIGINT)
    if callable(handler) and handler is not signal.default_int_handler:
        asyncio.get_running_loop().add_signal_handler(signal.SIGINT, handler, signal.SIGINT, None)


def run_ask(
    settings: Settings,
    prompt: str | None,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    show_reasoning: bool = False,
) -> int:
    """Run `tui-chat ask`; returns the process exit status. `show_reasoning` streams
    the model's reasoning to stderr."""
    stdin = sys.stdin if stdin is None else stdin
    stdout = sys.stdout if stdout is None else stdout
    stderr = sys.stderr if stderr is None else stderr
    out = _Output(stdout)

    def fail(message: str, status: int) -> int:
        stderr.write(f"tui-chat: {_one_line(message, settings.api_key)}\n")
        stderr.flush()
        return status

    try:
        try:
            text = read_prompt(prompt, stdin)
        except UnicodeDecodeError:
            return fail("stdin is not valid UTF-8 text", EXIT_USAGE)
        if text is None:
            return fail(
                "no prompt: pass one as an argument, or pipe it on stdin "
                "(e.g. echo hi | tui-chat ask)",
                EXIT_USAGE,
            )
        recording = None
        if settings.record is not None:
            try:
                recording = Recording.open(settings.record, secret=settings.api_key)
            except OSError as exc:
                reason = exc.strerror or str(exc)
                return fail(f"cannot write the recording {settings.record}: {reason}", EXIT_ERROR)
        try:
            # asyncio.run turns the first Ctrl+C into a cancellation of `_ask`
            # (so the stream closes cleanly) and then raises KeyboardInterrupt.
            thinking = _Output(stderr) if show_reasoning else None
            who = asyncio.run(
                _ask(settings, text, out, recording, lambda line: fail(line, EXIT_OK), thinking)
            )
        except ProviderError as exc:
            out.finish()
            return fail(exc.message, EXIT_ERROR)
        except BrokenPipeError:
            raise
        except Exception as exc:  # no tracebacks for a command-line tool
            out.finish()
            return fail(f"{type(exc).__name__}: {exc}", EXIT_ERROR)
        finally:
            if recording is not None:
                recording.close()
                if recording.error is not None:  # the reply itself went fine: just say so
                    fail(recording.error, EXIT_OK)
        if not out.wrote:
            fail("the reply was empty: the server sent no text", EXIT_OK)
        out.finish()
        if _isatty(stderr):  # for a person; a script reading stderr gets errors and notes only
            fail(who, EXIT_OK)
        return EXIT_OK
    except KeyboardInterrupt:
        try:
            out.finish()
        except BrokenPipeError:
            pass
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        if stdout is sys.stdout:
            _silence_stdout()
        return EXIT_BROKEN_PIPE


def _silence_stdout() -> None:
    """After EPIPE, point stdout at /dev/null so interpreter shutdown's flush stays quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
