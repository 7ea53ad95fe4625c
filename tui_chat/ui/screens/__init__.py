"""Modal screens: help, confirmation and one-line questions."""
