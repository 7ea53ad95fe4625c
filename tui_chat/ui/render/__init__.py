"""Send the terminal only what changed: a cell diff between Textual and the tty.

`install(app)` routes the app's screen updates through a shadow of the terminal's
cells; see `differ` (what to write) and `install` (when to write it).
"""

from tui_chat.ui.render.install import install

__all__ = ["install"]
