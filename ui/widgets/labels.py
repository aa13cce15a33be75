"""Labels for text of any length: they wrap to the width they are given and never ask for more.

A wrapped QLabel still asks for the width of its longest word, so a long path or error message
would widen its dock — and the window with it, past the screen. These do not.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSizePolicy


def wrapping_label(text: str = "", role: str | None = None, rich: bool = False) -> QLabel:
    """A word-wrapped label of the theme's ``role`` ("muted", "error", "warning", …) that any width fits."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    if role is not None:
        label.setProperty("role", role)
    if rich:
        label.setTextFormat(Qt.TextFormat.RichText)
    return label
