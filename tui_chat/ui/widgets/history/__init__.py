"""Saved conversations in the UI: the chat list with search."""
