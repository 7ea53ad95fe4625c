"""`<think>…</think>` at the start of a reply, split from the answer as it streams.

Models served without a reasoning parser (DeepSeek-R1 distills, Qwen3 on a plain
server) write their thinking into the text itself. Left there it would be shown raw
and sent back as context; split off, it is shown as reasoning like any other. A tag can
be cut across chunks ("<thi", "nk>"), so text that may still turn out to be a tag is
held back until the next chunk says, and handed on by `flush` if the reply ends first.
Only a tag that opens the reply counts: one in the middle of an answer is the answer.
"""

from __future__ import annotations

OPEN = "<think>"
CLOSE = "</think>"


class ThinkSplitter:
    """Feed it a reply's text chunk by chunk; each call returns (reasoning, answer)."""

    def __init__(self) -> None:
        #: "start": not yet known whether the reply opens with a tag; "thinking": inside
        #: it; "after": just closed (whitespace before the answer is dropped); "answer".
        self._state = "start"
        self._held = ""

    def feed(self, text: str) -> tuple[str, str]:
        if self._state == "answer":
            return "", text
        text, self._held = self._held + text, ""
        if self._state == "start":
            head = text.lstrip()
            if not head or (len(head) < len(OPEN) and OPEN.startswith(head)):
                self._held = text  # still could be the tag
                return "", ""
            if not head.startswith(OPEN):
                self._state = "answer"
                return "", text
            self._state = "thinking"
            text = head[len(OPEN) :]
        reasoning = ""
        if self._state == "thinking":
            end = text.find(CLOSE)
            if end < 0:
                keep = _partial_suffix(text, CLOSE)
                if keep:
                    text, self._held = text[:-keep], text[-keep:]
                return text, ""
            reasoning, text = text[:end], text[end + len(CLOSE) :]
            self._state = "after"
        # "after": the blank lines between the tag and the answer are not the answer.
        text = text.lstrip()
        if text:
            self._state = "answer"
        return reasoning, text

    def flush(self) -> tuple[str, str]:
        """What is still held when the reply ends: an unfinished tag's text stays what
        it was (reasoning inside the tag, answer before one was seen)."""
        held, self._held = self._held, ""
        if self._state == "thinking":
            return held, ""
        return "", held if self._state == "start" else ""


def _partial_suffix(text: str, tag: str) -> int:
    """Length of the longest end of `text` that is a beginning of `tag`."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-size:]):
            return size
    return 0
