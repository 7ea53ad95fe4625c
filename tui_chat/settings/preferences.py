"""Small UI preferences that outlive a session (the chosen theme), as JSON in the config dir."""

from __future__ import annotations

import json
from pathlib import Path

from tui_chat.settings.paths import preferences_path as state_path


def load_state(path: Path | None = None) -> dict[str, str]:
    path = path or state_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # missing or damaged: fall back to defaults, never fail to start
    return (
        {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}
        if isinstance(data, dict)
        else {}
    )


def save_state(state: dict[str, str], path: Path | None = None) -> None:
    path = path or state_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass  # a read-only home must not break the app; the theme is just not remembered
