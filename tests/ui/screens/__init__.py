"""Tests of `tui_chat.ui.screens` (a package so module names cannot clash with other test folders)."""
