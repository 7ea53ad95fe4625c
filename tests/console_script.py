"""How the tests run the installed `tui-chat` as a user would: one answer for every test."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def _command() -> list[str]:
    """The `tui-chat` script installed next to this interpreter, else `python -m tui_chat`.

    The script beside `sys.executable` is preferred to `shutil.which`, which may find a
    version-manager shim (pyenv) that needs the outer environment.
    """
    script = Path(sys.executable).with_name("tui-chat")
    if script.is_file():
        return [str(script)]
    found = shutil.which("tui-chat")
    return [found] if found else [sys.executable, "-m", "tui_chat"]


TUI_CHAT = _command()
