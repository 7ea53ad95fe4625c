"""Tests of `tui_chat.settings` (a package so module names cannot clash with other test folders)."""
