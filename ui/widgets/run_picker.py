"""The run the Inspect views look at, shown once above them: one combo box over the window's runs.

It follows the person — the run selected in the Runs panel, or the one that starts training — and
they can pick another here. Running runs are listed too; the views read them at their last
checkpoint and probe file.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSizePolicy, QWidget

from labbench.runs import RunInfo
from ui.docks.run_list import run_label
from ui.runs_model import RunsModel


def run_title(info: RunInfo) -> str:
    """``simclr 13:01:47 · cnn on shapes · completed``: which run, in one line."""
    what = " on ".join(x for x in (info.backbone, info.dataset) if x)
    return " · ".join(x for x in (run_label(info.path), what, info.status) if x)


class RunPicker(QWidget):
    """A combo box of the known runs; ``run_changed`` carries the chosen folder."""

    run_changed = Signal(str)

    def __init__(self, runs: RunsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = runs
        self.combo = QComboBox()
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(24)
        self.combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.combo.setPlaceholderText("no run yet — train one, or File ▸ Open run…")
        self.combo.setToolTip("The run the views below look at: the one selected in the Runs panel or training now")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Run"))
        row.addWidget(self.combo, 1)
        self.combo.currentIndexChanged.connect(self._index_changed)
        runs.changed.connect(self.refresh)
        self.refresh()

    def current(self) -> str | None:
        return self.combo.currentData()

    def paths(self) -> list[str]:
        return [self.combo.itemData(i) for i in range(self.combo.count())]

    @Slot()
    def refresh(self) -> None:
        """List the model's runs, keeping the chosen one (else the newest)."""
        before = self.current()
        infos = self.model.infos()
        self.combo.blockSignals(True)
        self.combo.clear()
        for info in infos:
            self.combo.addItem(run_title(info), str(info.path))
            self.combo.setItemData(self.combo.count() - 1, str(info.path), 3)  # tooltip: the whole folder
        paths = self.paths()
        self.combo.setCurrentIndex(paths.index(before) if before in paths else (0 if paths else -1))
        self.combo.blockSignals(False)
        if self.current() is not None and self.current() != before:
            self.run_changed.emit(self.current())

    def select(self, path: str | Path) -> None:
        """Look at ``path`` (known to the model from now on). Choosing the same run again looks again."""
        key = str(Path(path))
        if key not in self.paths():
            self.model.add(key)  # refreshes the list through ``changed``
        index = self.paths().index(key)
        if index == self.combo.currentIndex():
            self.run_changed.emit(key)
        else:
            self.combo.setCurrentIndex(index)

    @Slot(int)
    def _index_changed(self, index: int) -> None:
        if index >= 0:
            self.run_changed.emit(self.combo.itemData(index))
