"""The Textual UI: the app, its screens and widgets, and how frames reach the terminal."""
