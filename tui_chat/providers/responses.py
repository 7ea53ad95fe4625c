"""The OpenAI Responses API (`POST /v1/responses`).

The whole conversation goes up as input items on every turn (nothing is stored server
side that a later turn depends on), with the system prompt as `instructions`.
A stream ends with exactly one terminal event: `response.completed` gives usage and the
response id; `error`, `response.failed` and `response.incomplete` become ProviderErrors
that carry the server's words. Reasoning summaries (asked for with `reasoning.summary`
only when `ChatRequest.reasoning_summary` says so: models that do not reason reject it)
and raw reasoning text become `ReasoningDelta`s; refusals become refusal `TextDelta`s.
Event types this client does not know are skipped, so new server features
(annotations...) never break a reply.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from tui_chat.core.protocol import (
    ChatRequest,
    Done,
    ErrorKind,
    Event,
    ProviderError,
    ReasoningDelta,
    TextDelta,
    WireTap,
)
from tui_chat.providers.errors import clean_detail
from tui_chat.providers.openai_base import OpenAIProviderBase, field, make_usage

#: Server error codes that mean "slow down" rather than "broken".
_RATE_LIMIT_CODES = frozenset({"rate_limit_exceeded", "insufficient_quota"})

#: Events whose `delta` is reasoning: summaries (OpenAI) and raw text (gpt-oss servers).
_REASONING_DELTAS = frozenset(
    {"response.reasoning_summary_text.delta", "response.reasoning_text.delta"}
)
_TEXT_DELTAS = frozenset({"response.output_text.delta", "response.refusal.delta"})

_INCOMPLETE_HINTS = {
    "max_output_tokens": "it hit the output token limit; ask for a shorter answer",
    "content_filter": "the content filter stopped it",
}


class ResponsesProvider(OpenAIProviderBase):
    name = "responses"

    def _params(self, request: ChatRequest) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": request.model,
            "input": [{"role": m.role, "content": m.content} for m in request.messages],
        }
        if request.system:
            params["instructions"] = request.system
        if request.temperature is not None:
            params["temperature"] = request.temperature
        if request.max_tokens is not None:
            params["max_output_tokens"] = request.max_tokens
        if request.reasoning_summary:
            params["reasoning"] = {"summary": "auto"}
        return params

    async def _events(self, request: ChatRequest, tap: WireTap | None) -> AsyncIterator[Event]:
        self._require_key()
        params = self._params(request)
        if not request.stream:
            response = await (await self.client()).responses.create(**params)
            if tap is not None:
                failed = getattr(response, "status", None) in ("failed", "incomplete")
                self._tap(tap, "response", response, "" if failed else response.output_text)
            self._raise_if_unfinished(response, response.output_text)
            reasoning, refusal = _reasoning_and_refusal(response)
            if reasoning:
                yield ReasoningDelta(reasoning)
            if text := response.output_text:
                yield TextDelta(text)
            elif refusal:
                yield TextDelta(refusal, refusal=True)
            yield Done(self._usage(response), response.id)
            return

        done: Done | None = None
        received: list[str] = []
        async with await self._raw_stream("/responses", params) as events:
            async for event in events:
                if not isinstance(event, dict):
                    raise ProviderError(
                        f"The server sent an event that is not a JSON object: {event!r:.80}",
                        kind="protocol",
                    )
                kind = event.get("type")
                delta = event.get("delta") if kind in _TEXT_DELTAS else None
                if delta is not None and not isinstance(delta, str):
                    raise ProviderError(
                        f"The server sent a text delta that is not text: {delta!r:.80}",
                        kind="protocol",
                    )
                if tap is not None:
                    self._tap(tap, kind or "unknown", event, delta or "")
                if delta:
                    received.append(delta)
                    yield TextDelta(delta, refusal=kind == "response.refusal.delta")
                elif kind in _REASONING_DELTAS:
                    thought = event.get("delta")
                    if isinstance(thought, str) and thought:
                        yield ReasoningDelta(thought)
                elif kind == "response.reasoning_summary_part.added":
                    if event.get("summary_index"):  # a new paragraph of the summary
                        yield ReasoningDelta("\n\n")
                elif kind == "response.completed":
                    # Keep reading to the end of the body so the connection can be reused.
                    response = event.get("response")
                    response = response if isinstance(response, dict) else {}
                    done = Done(self._usage(response), response.get("id"))
                elif kind == "error":
                    raise self._server_error(event.get("message"), event.get("code"))
                elif kind in ("response.failed", "response.incomplete"):
                    response = event.get("response")
                    response = response if isinstance(response, dict) else {}
                    self._raise_if_unfinished(response, "".join(received))
                    raise self._server_error(f"{kind} without details", None)
        if done is None:
            raise ProviderError(
                "The reply stream ended before the server said it was complete. Try again.",
                kind="protocol",
            )
        yield done

    @staticmethod
    def _usage(response: Any) -> Any:
        usage = field(response, "usage")
        if usage is None:
            return None
        return make_usage(field(usage, "input_tokens"), field(usage, "output_tokens"))

    def _server_error(self, message: str | None, code: str | None) -> ProviderError:
        kind: ErrorKind = "rate_limit" if code in _RATE_LIMIT_CODES else "server"
        detail = clean_detail(message or "no details", self._errors.secret)
        return ProviderError(f"The server reported an error: {detail}", kind=kind)

    def _raise_if_unfinished(self, response: Any, partial: str) -> None:
        """Failed and incomplete responses are errors, whether streamed or not."""
        status = field(response, "status")
        if status == "failed":
            error = field(response, "error")
            message, code = (
                (field(error, "message"), field(error, "code")) if error else (None, None)
            )
            err = self._server_error(message, code)
            err.partial = partial
            raise err
        if status == "incomplete":
            details = field(response, "incomplete_details")
            reason = (field(details, "reason") if details else None) or "unknown reason"
            hint = _INCOMPLETE_HINTS.get(reason, "try again")
            raise ProviderError(
                f"The reply is incomplete ({reason}): {hint}.", kind="server", partial=partial
            )


def _reasoning_and_refusal(response: Any) -> tuple[str, str]:
    """A whole response's reasoning summaries and refusal, which `output_text` leaves out."""
    reasoning: list[str] = []
    refusal: list[str] = []
    for item in field(response, "output") or ():
        kind = field(item, "type")
        if kind == "reasoning":
            parts = [field(part, "text") for part in field(item, "summary") or ()]
            reasoning += [part for part in parts if isinstance(part, str) and part]
        elif kind == "message":
            for part in field(item, "content") or ():
                if field(part, "type") == "refusal" and isinstance(field(part, "refusal"), str):
                    refusal.append(field(part, "refusal"))
    return "\n\n".join(reasoning), "".join(refusal)
