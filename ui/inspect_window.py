"""The Inspect window: every Inspect view in one window of its own, found by name in a navigator on its left.

A window of its own, so that attention maps, embeddings and the collapse dashboard get the whole
screen of a laptop (or a second screen) while the lab bench keeps its training plots. The navigator
lists each view with its full name and an icon (arrow keys move through it; the Inspect menu and
toolbar open it, and give each view a shortcut). The run the views look at is shown once, above
them, and only for the views that look at a run; a view that is not on screen does no work.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QAbstractItemView, QFrame, QHBoxLayout, QListWidget, QListWidgetItem, QScrollArea, QSizePolicy, QStackedWidget,
    QVBoxLayout, QWidget,
)

from ui.widgets.run_picker import RunPicker
from ui.runs_model import RunsModel

ICON_SIZE = 24


@dataclass
class Page:
    """One view in the panel."""

    title: str
    widget: QWidget
    follows_run: bool


class InspectWindow(QWidget):
    """Navigator, run bar and the views; ``view_changed`` carries the title of the view on show.
    Its ``parent`` is the lab bench window: it closes with it."""

    view_changed = Signal(str)

    def __init__(self, runs: RunsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("inspect_window")
        self.setWindowTitle("Inspect")
        self.pages: list[Page] = []
        self.picker = RunPicker(runs)
        self.navigator = QListWidget()
        self.navigator.setIconSize(QSize(ICON_SIZE, ICON_SIZE))
        self.navigator.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.navigator.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.navigator.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.navigator.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Expanding)
        self.navigator.setAccessibleName("Inspect views")
        self.navigator.setToolTip("Inspect views (arrow keys move between them)")
        self.stack = QStackedWidget()
        right = QWidget()
        column = QVBoxLayout(right)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.picker)
        column.addWidget(self.stack, 1)
        row = QHBoxLayout(self)
        row.setContentsMargins(4, 4, 4, 4)
        row.addWidget(self.navigator)
        row.addWidget(right, 1)
        self.navigator.currentRowChanged.connect(self._row_changed)
        self.picker.run_changed.connect(self._run_changed)

    def add_view(self, title: str, widget: QWidget, icon: QIcon, follows_run: bool) -> None:
        """Add a view under ``title``; one that ``follows_run`` is told (``set_run``) which run to look at."""
        self.pages.append(Page(title, widget, follows_run))
        item = QListWidgetItem(icon, title)
        item.setToolTip(title)
        self.navigator.addItem(item)
        # A view wider than the panel scrolls inside it, rather than widening the whole window.
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(widget)
        self.stack.addWidget(scroll)
        if follows_run and self.picker.current() is not None:
            widget.set_run(self.picker.current())
        # Wide enough for the longest name in full: a navigator never elides.
        width = max(self.navigator.fontMetrics().horizontalAdvance(p.title) for p in self.pages)
        self.navigator.setFixedWidth(width + ICON_SIZE + 36)
        if self.navigator.currentRow() < 0:
            self.navigator.setCurrentRow(0)

    def titles(self) -> list[str]:
        return [p.title for p in self.pages]

    def view(self, title: str) -> QWidget:
        return self.pages[self.titles().index(title)].widget

    def current_title(self) -> str | None:
        row = self.navigator.currentRow()
        return self.pages[row].title if row >= 0 else None

    def show_view(self, title: str) -> QWidget:
        """Bring the window forward on the view ``title`` (its navigator row selected)."""
        self.navigator.setCurrentRow(self.titles().index(title))
        self.bring_forward()
        return self.view(title)

    @Slot()
    def bring_forward(self) -> None:
        """Show the window in front, its navigator focused (arrow keys choose a view)."""
        self.show()
        self.setWindowState(self.windowState() & ~Qt.WindowState.WindowMinimized)
        self.raise_()
        self.activateWindow()
        self.navigator.setFocus()

    @Slot(str)
    def follow(self, run_dir: str | Path) -> None:
        """Look at ``run_dir`` (the run selected in the Runs panel, or the one just started)."""
        self.picker.select(run_dir)

    @Slot(int)
    def _row_changed(self, row: int) -> None:
        if row < 0:
            return
        page = self.pages[row]
        self.stack.setCurrentIndex(row)
        self.picker.setVisible(page.follows_run)
        self.view_changed.emit(page.title)

    @Slot(str)
    def _run_changed(self, run_dir: str) -> None:
        for page in self.pages:
            if page.follows_run:
                page.widget.set_run(run_dir)
