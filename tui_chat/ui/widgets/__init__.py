"""Widgets draw and react; they talk to the app by messages, never to each other."""
