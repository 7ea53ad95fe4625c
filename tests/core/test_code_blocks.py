"""Code-block extraction: what the copy command offers, with a label per block."""

from __future__ import annotations

from tui_chat.core.code_blocks import code_blocks


def test_code_blocks_with_language_and_label() -> None:
    reply = "Try this:\n\n```python title\n\nprint('hi')\n```\n\nor\n\n```\nls -la\n```\n\n    indented\n"
    blocks = code_blocks(reply)
    assert [b.language for b in blocks] == ["python", "", ""]
    assert blocks[0].code == "\nprint('hi')\n"
    assert blocks[0].label == "python: print('hi')"
    assert blocks[1].label == "text: ls -la"
    assert blocks[2].code == "indented\n"
