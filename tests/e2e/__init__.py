"""End-to-end runs of the installed `tui-chat` console script in a pseudo-terminal."""
