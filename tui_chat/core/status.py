"""The one vocabulary for where a reply stands, shared by widgets, history and recordings.

A reply is `waiting` until its first words, `streaming` while they come, and then ends
as `complete`, `stopped` (the user pressed Esc) or `error`. History adds `interrupted`
for a reply whose process died mid-stream (found when the store next opens).
"""

from __future__ import annotations

from typing import Literal, get_args

ReplyStatus = Literal["waiting", "streaming", "complete", "stopped", "error", "interrupted"]
#: How a reply ends, as the reply runner reports it and recordings store it.
EndStatus = Literal["complete", "stopped", "error"]

STATUSES: tuple[ReplyStatus, ...] = get_args(ReplyStatus)
END_STATUSES: tuple[EndStatus, ...] = get_args(EndStatus)
