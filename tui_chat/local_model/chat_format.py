"""ChatML prompts as token ids, matching the GGUF's Jinja chat template without Jinja.

SmolLM2's `tokenizer.chat_template` renders each message as
`<|im_start|>{role}\\n{content}<|im_end|>\\n`, ends with `<|im_start|>assistant\\n`, and
puts a default system message first when the conversation does not start with one.
That is small enough to write by hand (no jinja2 dependency); a test renders the real
template with jinja2 and compares.

Messages are tokenized piece by piece with the markers inserted as token ids, so a user
who types "<|im_start|>" gets those characters, not a forged turn. For ordinary text
the ids equal llama.cpp's tokenization of the rendered string (special tokens on):
llama.cpp also splits at the markers first and tokenizes the text between them alone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from tui_chat.local_model.common import Message, PromptTooLong
from tui_chat.local_model.tokenizer import Tokenizer

IM_START, IM_END = "<|im_start|>", "<|im_end|>"
_DEFAULT_SYSTEM = re.compile(
    r"messages\[0\]\['role'\] != 'system'.*?<\|im_start\|>system\n(.*?)<\|im_end\|>", re.S
)


def default_system_prompt(template: str | None) -> str | None:
    """The system message the template adds when the first message is not one."""
    if not template:
        return None
    m = _DEFAULT_SYSTEM.search(template)
    return m.group(1) if m else None


class ChatFormat:
    def __init__(self, tokenizer: Tokenizer, template: str | None) -> None:
        if template is not None and IM_START not in template:
            raise ValueError("only ChatML chat templates are supported")
        self.tokenizer = tokenizer
        self.default_system = default_system_prompt(template)
        self.im_start = tokenizer.token_id(IM_START)
        self.im_end = tokenizer.token_id(IM_END)
        self._newline = tokenizer.encode("\n")
        self._generation_prompt = [self.im_start, *tokenizer.encode("assistant\n")]

    def with_default_system(self, messages: Sequence[Message]) -> list[Message]:
        msgs = list(messages)
        if self.default_system is not None and (not msgs or msgs[0][0] != "system"):
            msgs.insert(0, ("system", self.default_system))
        return msgs

    def render(self, messages: Sequence[Message]) -> str:
        """The prompt as text (for display and tests), generation prompt included."""
        body = "".join(
            f"{IM_START}{r}\n{c}{IM_END}\n" for r, c in self.with_default_system(messages)
        )
        return body + f"{IM_START}assistant\n"

    def message_ids(self, role: str, content: str) -> list[int]:
        text = self.tokenizer.encode(f"{role}\n{content}")
        return [self.im_start, *text, self.im_end, *self._newline]

    def prompt_ids(self, messages: Sequence[Message], limit: int) -> tuple[list[int], int]:
        """Ids for `messages` plus the generation prompt, at most `limit` long.

        Drops the oldest turns first (never a leading system message or the last
        message); returns the ids and how many messages were dropped.
        """
        msgs = list(messages)
        head: list[Message] = []
        if msgs and msgs[0][0] == "system":
            head = [msgs.pop(0)]
        elif self.default_system is not None:
            head = [("system", self.default_system)]
        if not msgs:
            raise ValueError("no message to answer")
        head_ids = [i for r, c in head for i in self.message_ids(r, c)]
        turns = [self.message_ids(r, c) for r, c in msgs]
        fixed = len(head_ids) + len(turns[-1]) + len(self._generation_prompt)
        if fixed > limit:
            raise PromptTooLong(fixed, limit)
        budget, start = limit - fixed, len(turns) - 1
        while start > 0 and len(turns[start - 1]) <= budget:
            budget -= len(turns[start - 1])
            start -= 1
        # Do not open the kept history with an orphaned assistant reply.
        while start < len(turns) - 1 and msgs[start][0] == "assistant":
            start += 1
        ids = head_ids + [i for t in turns[start:] for i in t] + self._generation_prompt
        return ids, start
