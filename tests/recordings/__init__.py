"""Tests of `tui_chat.recordings` (a package so module names cannot clash with other test folders)."""
