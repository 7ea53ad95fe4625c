"""Where a growing Markdown reply can be cut so the part above it never changes again.

The reply body (reply_body.py) renders a finished block once and keeps its lines; only
the block after the last safe cut is rendered again as text arrives, so the cost of a
token does not grow with the length of the reply.
"""

from __future__ import annotations

import re

#: A line that opens or closes a code fence.
FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")


def settle_point(source: str, min_lines: int) -> int | None:
    """The offset of the last safe cut with at least `min_lines` lines above it, or None.

    A cut is safe at a blank line outside any code fence when the next line starts a
    new top-level block (not indented, so not a continuation or an indented code block).
    Only blocks that are complete are ever settled: the cut is always before the tail.
    """
    best: int | None = None
    fence: str | None = None
    lines = 0
    offset = 0
    previous_blank = False
    for line in source.splitlines(keepends=True):
        stripped = line.rstrip("\n")
        match = FENCE.match(stripped)
        if fence is None:
            if previous_blank and lines >= min_lines and stripped and not stripped[0].isspace():
                best = offset
            if not line.endswith("\n"):
                break  # the unfinished last line may start the tail, never end a block
            if match:
                fence = match.group(1)
        elif match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence):
            if not stripped[match.end() :].strip():
                fence = None
        previous_blank = fence is None and not stripped.strip()
        offset += len(line)
        lines += 1
    return best


def open_fence(source: str) -> int | None:
    """The offset of the line that opens a code fence left open at the end, or None."""
    fence: str | None = None
    start = 0
    offset = 0
    for line in source.splitlines(keepends=True):
        stripped = line.rstrip("\n")
        match = FENCE.match(stripped)
        if fence is None:
            if match:
                fence, start = match.group(1), offset
        elif match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence):
            if not stripped[match.end() :].strip():
                fence = None
        offset += len(line)
    return start if fence is not None else None
