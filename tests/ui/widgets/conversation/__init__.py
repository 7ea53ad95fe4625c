"""Tests of `tui_chat.ui.widgets.conversation` (a package so module names cannot clash)."""
