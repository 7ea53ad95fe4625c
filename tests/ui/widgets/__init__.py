"""Tests of `tui_chat.ui.widgets` (a package so module names cannot clash with other test folders)."""
