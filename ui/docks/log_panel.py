"""What the engine reports (LogEvent) and what the window itself has to say, with levels in colour."""

from __future__ import annotations

import html
import time

from PySide6.QtCore import Slot
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QComboBox, QDockWidget, QHBoxLayout, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from labbench.engine.events import LogEvent
from ui.theme import current_theme

LEVELS = ("info", "warning", "error")


class LogPanel(QDockWidget):
    """A read-only, bounded log; the level filter hides lines below the chosen level."""

    def __init__(self, parent: QWidget | None = None, max_lines: int = 5000) -> None:
        super().__init__("Log", parent)
        self.setObjectName("log_panel")
        self._lines: list[tuple[str, str, str]] = []  # (time, level, message)
        self._max_lines = max_lines
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        bar = QHBoxLayout()
        self.level = QComboBox()
        self.level.addItems(["All messages", "Warnings and errors", "Errors only"])
        self.level.setToolTip("Show only messages at or above this level")
        self.level.currentIndexChanged.connect(self._redraw)
        clear = QPushButton("Clear")
        clear.clicked.connect(self.clear)
        bar.addWidget(self.level)
        bar.addStretch(1)
        bar.addWidget(clear)
        layout.addLayout(bar)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setMaximumBlockCount(max_lines)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        layout.addWidget(self.text)
        self.setWidget(body)

    @Slot(object)
    def on_log(self, event: LogEvent) -> None:
        self.add(event.message, event.level)

    def add(self, message: str, level: str = "info") -> None:
        entry = (time.strftime("%H:%M:%S"), level, message)
        self._lines.append(entry)
        if len(self._lines) > self._max_lines:
            del self._lines[: len(self._lines) - self._max_lines]
        if self._shown(level):
            self.text.appendHtml(self._html(*entry))
            self.text.moveCursor(QTextCursor.MoveOperation.End)

    def messages(self) -> list[str]:
        return [m for _, _, m in self._lines]

    @Slot()
    def clear(self) -> None:
        self._lines.clear()
        self.text.clear()

    @Slot()
    def restyle(self) -> None:
        """Redraw with the current theme's colours."""
        self._redraw()

    def _shown(self, level: str) -> bool:
        return LEVELS.index(level) >= self.level.currentIndex()

    @Slot()
    def _redraw(self) -> None:
        self.text.clear()
        for entry in self._lines:
            if self._shown(entry[1]):
                self.text.appendHtml(self._html(*entry))

    @staticmethod
    def _html(stamp: str, level: str, message: str) -> str:
        theme = current_theme()
        colour = {"warning": theme.warning, "error": theme.error}.get(level, theme.text)
        body = html.escape(message).replace("\n", "<br>")
        return f'<span style="color:{theme.muted}">{stamp}</span> <span style="color:{colour}">{body}</span>'
