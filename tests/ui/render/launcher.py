"""`tui-chat` with the render layer installed, until ChatApp calls `install` itself.

    python tests/ui/render/launcher.py --api chat --base-url URL --model M

Patches `ChatApp.__init__` to end with `tui_chat.ui.render.install(self)` and runs the
real `tui_chat.cli.main()`, so the benchmark and the pty test drive the shipped app with
only the render path changed.
"""

from __future__ import annotations

import sys
from typing import Any


def patch() -> None:
    try:
        from tui_chat.ui.app import ChatApp
    except ImportError:  # the layout before the package moved into tui_chat/ui/
        from tui_chat.app import ChatApp  # type: ignore[no-redef]
    from tui_chat.ui.render import install

    if getattr(ChatApp.__init__, "_installs_render", False):
        return
    original = ChatApp.__init__

    def __init__(self: ChatApp, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        install(self)

    __init__._installs_render = True  # type: ignore[attr-defined]
    ChatApp.__init__ = __init__  # type: ignore[method-assign]


def main() -> int:
    patch()
    from tui_chat.cli import main as cli_main

    return cli_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
