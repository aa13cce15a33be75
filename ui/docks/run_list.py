"""Run folders to compare: tick a run to overlay its curves; resume one that was stopped.

Everything shown comes from the folders alone (``labbench.runs``), so runs from the command line,
from another machine or from before a crash list the same way as the one training now.
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView, QDockWidget, QHBoxLayout, QHeaderView, QPushButton, QTreeWidget, QTreeWidgetItem, QVBoxLayout,
    QWidget,
)

from labbench.runs import RunInfo, list_runs, read_run

COLUMNS = ("Run", "Method", "Backbone", "Data", "Status", "Step", "k-NN")
PATH_ROLE = Qt.ItemDataRole.UserRole


def run_label(run_dir: str | Path) -> str:
    """A short name for legends: ``20261126-130147-simclr-big`` -> ``simclr-big 13:01:47``."""
    name = Path(run_dir).name
    m = re.fullmatch(r"\d{8}-(\d{2})(\d{2})(\d{2})-(.+)", name)
    return f"{m[4]} {m[1]}:{m[2]}:{m[3]}" if m else name


class RunList(QDockWidget):
    """The runs under the runs folder, newest first; checkboxes choose what the plots overlay."""

    run_toggled = Signal(str, bool)      # run folder, shown
    resume_requested = Signal(str)       # run folder

    def __init__(self, runs_root: Path, parent: QWidget | None = None) -> None:
        super().__init__("Runs", parent)
        self.setObjectName("run_list")
        self.runs_root = runs_root
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(COLUMNS)
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setStretchLastSection(False)
        self.tree.itemChanged.connect(self._item_changed)
        self.tree.itemSelectionChanged.connect(self._update_buttons)
        layout.addWidget(self.tree, 1)
        buttons = QHBoxLayout()
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip(f"Read the run folders under {runs_root} again")
        self.refresh_button.clicked.connect(self.refresh)
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip("Continue the selected run from its last checkpoint")
        self.resume_button.clicked.connect(self._resume_clicked)
        buttons.addWidget(self.refresh_button)
        buttons.addStretch(1)
        buttons.addWidget(self.resume_button)
        layout.addLayout(buttons)
        self.setWidget(body)
        self._training = False
        self.refresh()

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
        it = self.item(path)
        return it is not None and it.checkState(0) == Qt.CheckState.Checked

    @Slot()
    def refresh(self) -> None:
        """Re-read every run folder, keeping which runs are ticked."""
        checked = {p for p in self.paths() if self.is_checked(p)}
        self.tree.blockSignals(True)
        self.tree.clear()
        for info in list_runs(self.runs_root):
            self._add(info, str(info.path) in checked)
        self.tree.blockSignals(False)
        self._update_buttons()

    def add_run(self, path: str | Path, checked: bool | None = None) -> None:
        """Show (or update) one run folder, e.g. one opened from elsewhere or the live run.
        ``checked`` None keeps a listed run's tick as it is (a new one is ticked)."""
        info = read_run(path)
        existing = self.item(path)
        self.tree.blockSignals(True)
        if existing is not None:
            self._fill(existing, info)
            if checked is not None:
                existing.setCheckState(0, Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        else:
            self._add(info, True if checked is None else checked, top=True)
        self.tree.blockSignals(False)
        self._update_buttons()

    def set_training(self, training: bool) -> None:
        """While a run trains, no other can be resumed."""
        self._training = training
        self._update_buttons()

    def _add(self, info: RunInfo, checked: bool, top: bool = False) -> None:
        it = QTreeWidgetItem()
        it.setFlags(it.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        it.setData(0, PATH_ROLE, str(info.path))
        it.setCheckState(0, Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        self._fill(it, info)
        if top:
            self.tree.insertTopLevelItem(0, it)
        else:
            self.tree.addTopLevelItem(it)

    @staticmethod
    def _fill(it: QTreeWidgetItem, info: RunInfo) -> None:
        knn = f"{info.knn_accuracy:.1%}" if info.knn_accuracy is not None else ""
        values = (info.name, info.method or "?", info.backbone or "?", info.dataset or "?", info.status,
                  "" if info.step is None else str(info.step), knn)
        for col, text in enumerate(values):
            it.setText(col, text)
        it.setData(0, Qt.ItemDataRole.UserRole + 1, info.has_checkpoint)
        tip = str(info.path) + ("\n" + "\n".join(info.problems) if info.problems else "")
        it.setToolTip(0, tip)

    def selected_path(self) -> str | None:
        items = self.tree.selectedItems()
        return items[0].data(0, PATH_ROLE) if items else None

    @Slot()
    def _update_buttons(self) -> None:
        items = self.tree.selectedItems()
        resumable = bool(items) and items[0].data(0, Qt.ItemDataRole.UserRole + 1) and items[0].text(4) != "completed"
        self.resume_button.setEnabled(bool(resumable) and not self._training)

    @Slot()
    def _resume_clicked(self) -> None:
        path = self.selected_path()
        if path is not None:
            self.resume_requested.emit(path)

    @Slot(QTreeWidgetItem, int)
    def _item_changed(self, it: QTreeWidgetItem, column: int) -> None:
        if column == 0:
            self.run_toggled.emit(it.data(0, PATH_ROLE), it.checkState(0) == Qt.CheckState.Checked)
