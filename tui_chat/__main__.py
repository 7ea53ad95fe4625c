"""`python -m tui_chat` runs the same entry point as the `tui-chat` console script."""

from tui_chat.cli import main

raise SystemExit(main())
