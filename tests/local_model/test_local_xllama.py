"""The default engine (llama.cpp through xllamacpp): exact greedy tokens, and what an
embedded engine must not do to the process (its signals, its stderr, a TCP port)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import textwrap

import pytest

from tui_chat.core.protocol import ChatMessage, ChatRequest, ProviderError, WireEvent
from tui_chat.local_model.gguf_meta import NotAChatModel, read_chat_model_info
from tui_chat.local_model.gguf_weights import locate_model_file
from tui_chat.providers.local import LocalProvider

from .conftest import requires_model, requires_xllamacpp
from .gguf_files import write_gguf
from stream_helpers import collect


@requires_xllamacpp
@pytest.mark.parametrize("case_index", [0, 1, 2])
async def test_greedy_tokens_on_the_default_engine_equal_llamacpp(
    xmodel, llamacpp_fixture, case_index
) -> None:
    case = llamacpp_fixture["cases"][case_index]
    expected = case["generated_token_ids"]
    provider = LocalProvider(repeat_penalty=1.0, reuse_prompt=False)
    request = ChatRequest(
        messages=tuple(ChatMessage(m["role"], m["content"]) for m in case["messages"]),
        model="smollm2",
        temperature=0,
        max_tokens=len(expected),
    )
    taps: list[WireEvent] = []
    reply = await collect(provider, request, tap=taps.append)
    assert [e.payload["token_id"] for e in taps if e.payload["token_id"] is not None] == expected
    assert reply.done.usage.input_tokens == len(case["prompt_token_ids"])


def run_child(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
    )


LOAD = """
    import asyncio, os, signal, sys
    from tui_chat.core.protocol import ChatMessage, ChatRequest
    from tui_chat.providers.local import LocalProvider

    async def reply():
        req = ChatRequest(messages=(ChatMessage("user", "Hi"),), model="m", max_tokens=4)
        async for _ in LocalProvider(backend="xllamacpp").stream(req):
            pass

    asyncio.run(reply())
"""


@requires_xllamacpp
@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
def test_after_loading_ctrl_c_still_interrupts_and_sigterm_still_ends_the_process() -> None:
    interrupted = run_child(
        LOAD
        + """
    try:
        os.kill(os.getpid(), signal.SIGINT)
        signal.pause()
    except KeyboardInterrupt:
        print("KeyboardInterrupt")
    """
    )
    assert interrupted.stdout.strip() == "KeyboardInterrupt", interrupted.stderr
    terminated = run_child(
        LOAD
        + """
    os.kill(os.getpid(), signal.SIGTERM)
    signal.pause()
    print("still running")
    """
    )
    assert terminated.returncode == -signal_number("SIGTERM"), terminated.stdout


def signal_number(name: str) -> int:
    import signal

    return int(getattr(signal, name))


@requires_xllamacpp
def test_loading_and_replying_write_nothing_to_stderr() -> None:
    """llama.cpp logs every load and request; under the TUI that would scribble on the
    screen."""
    child = run_child(LOAD)
    assert child.returncode == 0 and child.stderr == ""


@requires_xllamacpp
def test_the_default_engine_never_loads_numpy_or_gguf() -> None:
    """They are the NumPy engine's: about 15 MB of resident memory the default does
    without (the peak-RSS target)."""
    child = run_child(LOAD + "\n    print(sorted({'numpy', 'gguf'} & set(sys.modules)))")
    assert child.stdout.strip() == "[]", child.stderr


@requires_xllamacpp
def test_the_engine_listens_on_a_private_unix_socket_not_a_tcp_port(xmodel) -> None:
    address = xmodel._server.listening_address
    assert address.startswith("unix://")
    folder = os.path.dirname(address.removeprefix("unix://"))
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700


def test_a_gguf_without_a_chat_template_is_not_a_chat_model(tmp_path) -> None:
    base = write_gguf(tmp_path / "base.gguf", {"general.architecture": "llama"})
    with pytest.raises(NotAChatModel, match="has no chat template"):
        read_chat_model_info(base)


def test_a_file_that_is_not_a_gguf_says_so(tmp_path) -> None:
    text = tmp_path / "notes.gguf"
    text.write_text("just some notes\n")
    with pytest.raises(NotAChatModel, match="is not a GGUF model file"):
        read_chat_model_info(text)


@requires_model
def test_the_bundled_model_reads_as_a_chat_model() -> None:
    info = read_chat_model_info(locate_model_file())
    assert info.architecture == "llama" and info.context_length == 8192
    assert "<|im_start|>" in info.chat_template


@requires_xllamacpp
async def test_a_gguf_without_a_chat_template_fails_the_reply_clearly(tmp_path) -> None:
    base = write_gguf(tmp_path / "base.gguf", {"general.architecture": "llama"})
    provider = LocalProvider(model_path=base)
    request = ChatRequest(messages=(ChatMessage("user", "hi"),), model="m")
    with pytest.raises(ProviderError) as err:
        await collect(provider, request)
    assert err.value.kind == "model" and "has no chat template" in err.value.message


@requires_model
def test_an_xllamacpp_whose_library_will_not_load_falls_back_to_the_numpy_engine(
    tmp_path,
) -> None:
    broken = tmp_path / "xllamacpp"
    broken.mkdir()
    (broken / "__init__.py").write_text(
        'raise OSError("libgomp.so.1: cannot open shared object file")\n'
    )
    code = """
    import asyncio
    from tui_chat.core.protocol import ChatMessage, ChatRequest, TextDelta
    from tui_chat.providers.local import LocalProvider

    async def reply():
        req = ChatRequest(messages=(ChatMessage("user", "Hi"),), model="m", max_tokens=4)
        provider = LocalProvider()
        text = [e.text async for e in provider.stream(req) if isinstance(e, TextDelta)]
        print(type(provider._engine()).__name__, bool("".join(text)))

    asyncio.run(reply())
    """
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    env.pop("TUI_CHAT_LOCAL_BACKEND", None)
    child = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert child.stdout.strip() == "LocalEngine True", child.stderr


@requires_xllamacpp
def test_switching_through_models_keeps_at_most_two_loaded(tmp_path) -> None:
    from tui_chat.local_model import xllama

    names = [tmp_path / f"model-{i}.gguf" for i in range(3)]
    for name in names:
        try:
            os.link(locate_model_file(), name)  # three paths, one file on disk
        except OSError:  # another file system
            shutil.copyfile(locate_model_file(), name)
    first = xllama.get_model(names[0])
    assert xllama.get_model(names[0]) is first  # loaded once
    xllama.get_model(names[1])
    xllama.get_model(names[2])
    loaded = {key[0] for key in xllama._models}
    assert str(names[0].resolve()) not in loaded and len(xllama._models) == xllama.MAX_LOADED
    assert xllama.get_model(names[0]) is not first  # loaded again
