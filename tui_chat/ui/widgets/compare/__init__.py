"""Compare mode's panes."""
