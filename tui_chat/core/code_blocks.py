"""Fenced code blocks in a reply, found with the same Markdown parser Textual renders with."""

from __future__ import annotations

from dataclasses import dataclass

from markdown_it import MarkdownIt


@dataclass(frozen=True, slots=True)
class CodeBlock:
    language: str
    code: str

    @property
    def label(self) -> str:
        """One line to pick it by: language and first non-blank line."""
        first = next((line.strip() for line in self.code.splitlines() if line.strip()), "")
        return f"{self.language or 'text'}: {first[:60]}"


def code_blocks(markdown: str) -> list[CodeBlock]:
    tokens = MarkdownIt("commonmark").parse(markdown)
    return [
        CodeBlock(
            language=(token.info or "").split(maxsplit=1)[0] if token.info else "",
            code=token.content,
        )
        for token in tokens
        if token.type in ("fence", "code_block")
    ]
