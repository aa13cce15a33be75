"""Run folders to compare: tick a run to overlay its curves; resume one that was stopped.

Everything shown comes from the folders alone (``labbench.runs``, through :class:`~ui.runs_model.RunsModel`),
so runs from the command line, from another machine or from before a crash list the same way as the
one training now — and appear, and change status, by themselves.
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView, QDockWidget, QHBoxLayout, QHeaderView, QLabel, QPushButton, QTreeWidget, QTreeWidgetItem,
    QVBoxLayout, QWidget,
)

from labbench.runs import RunInfo
from ui.runs_model import RunsModel

COLUMNS = ("Run", "Method", "Backbone", "Data", "Status", "Step", "k-NN")
PATH_ROLE = Qt.ItemDataRole.UserRole
CHECKPOINT_ROLE = Qt.ItemDataRole.UserRole + 1
STATUS_COLUMN = 4
#: statuses a run cannot be continued from, checkpoint or not
NOT_RESUMABLE = ("completed", "training")


def run_label(run_dir: str | Path) -> str:
    """A short name for legends: ``20261126-130147-simclr-big`` -> ``simclr-big 13:01:47``."""
    name = Path(run_dir).name
    m = re.fullmatch(r"\d{8}-(\d{2})(\d{2})(\d{2})-(.+)", name)
    return f"{m[4]} {m[1]}:{m[2]}:{m[3]}" if m else name


class RunList(QDockWidget):
    """The known runs, newest first; checkboxes choose what the plots overlay."""

    run_toggled = Signal(str, bool)      # run folder, shown
    resume_requested = Signal(str)       # run folder

    def __init__(self, runs: RunsModel, parent: QWidget | None = None) -> None:
        super().__init__("Runs", parent)
        self.setObjectName("run_list")
        self.model = runs
        self._checked: set[str] = set()
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(COLUMNS)
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.tree.header().setStretchLastSection(False)
        self.tree.itemChanged.connect(self._item_changed)
        self.tree.itemSelectionChanged.connect(self._update_buttons)
        layout.addWidget(self.tree, 1)
        buttons = QHBoxLayout()
        where = QLabel(f"Runs under {runs.root}" if runs.root is not None else "")
        where.setProperty("role", "muted")
        where.setToolTip("New runs there appear by themselves, from this window or the command line")
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip("Continue the selected run from its last checkpoint")
        self.resume_button.clicked.connect(self._resume_clicked)
        buttons.addWidget(where, 1)
        buttons.addWidget(self.resume_button)
        layout.addLayout(buttons)
        self.setWidget(body)
        self._training = False
        runs.changed.connect(self._show_runs)
        self._show_runs()

    def paths(self) -> list[str]:
        return [self.tree.topLevelItem(i).data(0, PATH_ROLE) for i in range(self.tree.topLevelItemCount())]

    def item(self, path: str | Path) -> QTreeWidgetItem | None:
        key = str(Path(path))
        for i in range(self.tree.topLevelItemCount()):
            it = self.tree.topLevelItem(i)
            if it.data(0, PATH_ROLE) == key:
                return it
        return None

    def set_checked(self, path: str | Path, checked: bool) -> None:
        it = self.item(path)
        if it is not None:
            it.setCheckState(0, Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    def is_checked(self, path: str | Path) -> bool:
        return str(Path(path)) in self._checked

    @Slot()
    def refresh(self) -> None:
        """Read the run folders again now (they are also looked at every few seconds by themselves)."""
        self.model.rescan()
        self._show_runs()

    @Slot()
    def _show_runs(self) -> None:
        """Show the model's runs in place (ticks, selection and scrolling stay)."""
        infos = self.model.infos()
        keep = {str(info.path) for info in infos}
        self.tree.blockSignals(True)
        for i in reversed(range(self.tree.topLevelItemCount())):
            if self.tree.topLevelItem(i).data(0, PATH_ROLE) not in keep:
                self.tree.takeTopLevelItem(i)
        for row, info in enumerate(infos):
            it = self.item(info.path)
            if it is None:
                it = QTreeWidgetItem()
                it.setFlags(it.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                it.setData(0, PATH_ROLE, str(info.path))
                self.tree.insertTopLevelItem(row, it)
            self._fill(it, info)
        self.tree.blockSignals(False)
        self._update_buttons()

    def add_run(self, path: str | Path, checked: bool | None = None) -> None:
        """Show one run folder (one opened from elsewhere, the live run); ``checked`` None keeps its tick."""
        key = str(Path(path))
        if checked is not None:
            (self._checked.add if checked else self._checked.discard)(key)
        if key in self.model.paths():
            self._show_runs()
        else:
            self.model.add(key)  # shown through ``changed``

    def set_training(self, training: bool) -> None:
        """While a run trains, no other can be resumed."""
        self._training = training
        self._update_buttons()

    def _fill(self, it: QTreeWidgetItem, info: RunInfo) -> None:
        it.setCheckState(0, Qt.CheckState.Checked if str(info.path) in self._checked else Qt.CheckState.Unchecked)
        knn = f"{info.knn_accuracy:.1%}" if info.knn_accuracy is not None else ""
        values = (info.name, info.method or "?", info.backbone or "?", info.dataset or "?", info.status,
                  "" if info.step is None else str(info.step), knn)
        for col, text in enumerate(values):
            it.setText(col, text)
        it.setData(0, CHECKPOINT_ROLE, info.has_checkpoint)
        it.setToolTip(0, str(info.path) + ("\n" + "\n".join(info.problems) if info.problems else ""))

    def selected_path(self) -> str | None:
        items = self.tree.selectedItems()
        return items[0].data(0, PATH_ROLE) if items else None

    @Slot()
    def _update_buttons(self) -> None:
        items = self.tree.selectedItems()
        resumable = bool(items) and items[0].data(0, CHECKPOINT_ROLE) and items[0].text(STATUS_COLUMN) not in NOT_RESUMABLE
        self.resume_button.setEnabled(bool(resumable) and not self._training)

    @Slot()
    def _resume_clicked(self) -> None:
        path = self.selected_path()
        if path is not None:
            self.resume_requested.emit(path)

    @Slot(QTreeWidgetItem, int)
    def _item_changed(self, it: QTreeWidgetItem, column: int) -> None:
        if column == 0:
            path, shown = it.data(0, PATH_ROLE), it.checkState(0) == Qt.CheckState.Checked
            (self._checked.add if shown else self._checked.discard)(path)
            self.run_toggled.emit(path, shown)
