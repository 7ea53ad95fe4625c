"""OpenAI Chat Completions (`POST /v1/chat/completions`): the protocol every local server speaks.

Ollama, vLLM, llama.cpp and LM Studio all serve it, so this provider assumes nothing
beyond the common core: a leading system message for the system prompt, `max_tokens`
(not the newer `max_completion_tokens`, which local servers often reject), text in
`choices[0].delta.content`, and usage in a final chunk without choices when asked for
with `stream_options.include_usage`. A server that never sends usage simply gets
`Done(usage=None)`. Reasoning that servers stream beside the text (`reasoning_content`:
DeepSeek, vLLM, llama.cpp; `reasoning`: Ollama, OpenRouter) becomes `ReasoningDelta`s,
and `delta.refusal` a refusal `TextDelta`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from tui_chat.core.protocol import (
    ChatRequest,
    Done,
    Event,
    ProviderError,
    ReasoningDelta,
    TextDelta,
    Usage,
    WireTap,
)
from tui_chat.providers.openai_base import OpenAIProviderBase, field, make_usage


class ChatCompletionsProvider(OpenAIProviderBase):
    name = "chat"

    def _params(self, request: ChatRequest) -> dict[str, Any]:
        messages = [{"role": "system", "content": request.system}] if request.system else []
        messages += [{"role": m.role, "content": m.content} for m in request.messages]
        params: dict[str, Any] = {"model": request.model, "messages": messages}
        if request.temperature is not None:
            params["temperature"] = request.temperature
        if request.max_tokens is not None:
            params["max_tokens"] = request.max_tokens
        return params

    async def _events(self, request: ChatRequest, tap: WireTap | None) -> AsyncIterator[Event]:
        self._require_key()
        params = self._params(request)
        if not request.stream:
            completion = await (await self.client()).chat.completions.create(**params)
            choices = completion.choices or []
            message = choices[0].message if choices else None
            text = (message.content or "") if message is not None else ""
            if tap is not None:
                self._tap(tap, "response", completion, text)
            if message is not None and (thought := _reasoning(message)):
                yield ReasoningDelta(thought)
            if text:
                yield TextDelta(text)
            elif message is not None and isinstance(message.refusal, str) and message.refusal:
                yield TextDelta(message.refusal, refusal=True)
            yield Done(_usage(completion.usage), completion.id or None)
            return

        usage: Usage | None = None
        response_id: str | None = None
        body = {**params, "stream_options": {"include_usage": True}}
        async with await self._raw_stream("/chat/completions", body) as chunks:
            async for chunk in chunks:
                if not isinstance(chunk, dict):
                    raise ProviderError(
                        f"The server sent a stream chunk that is not a JSON object: {chunk!r:.80}",
                        kind="protocol",
                    )
                response_id = response_id or chunk.get("id") or None
                if chunk.get("usage") is not None:
                    usage = _usage(chunk["usage"])
                content, thought, refusal = _content(chunk)
                if tap is not None:
                    self._tap(tap, "chunk", chunk, content or "")
                if thought:
                    yield ReasoningDelta(thought)
                if content:
                    yield TextDelta(content)
                if refusal:
                    yield TextDelta(refusal, refusal=True)
        yield Done(usage, response_id)


def _content(chunk: Any) -> tuple[str | None, str | None, str | None]:
    """The text, reasoning and refusal of a chunk; all None for the usage-only chunk,
    which has no choices."""
    choices = field(chunk, "choices")
    if not choices:
        return None, None, None
    delta = field(choices[0], "delta")
    if delta is None:
        return None, None, None
    content = field(delta, "content")
    if content is not None and not isinstance(content, str):
        raise ProviderError(
            f"The server sent a chunk whose content is not text: {content!r:.80}", kind="protocol"
        )
    refusal = field(delta, "refusal")
    return content, _reasoning(delta), refusal if isinstance(refusal, str) else None


def _reasoning(delta: Any) -> str | None:
    """Reasoning under either name servers use; not text (or absent) counts as none."""
    for name in ("reasoning_content", "reasoning"):
        value = field(delta, name)
        if isinstance(value, str) and value:
            return value
    return None


def _usage(usage: Any) -> Usage | None:
    if usage is None:
        return None
    return make_usage(field(usage, "prompt_tokens"), field(usage, "completion_tokens"))
