"""Tests of `tui_chat.core` (a package so module names cannot clash with other test folders)."""
