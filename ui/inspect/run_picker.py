"""Which run an inspector looks at: the run folders under the runs folder, newest first.

In the window it follows the person: the run selected in the Runs panel, and the run that starts
training (see :func:`follow_window`). Running runs are listed too; the inspectors read them at
their last checkpoint and probe file.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QWidget

from labbench.runs import RunInfo, list_runs, read_run
from ui.docks.run_list import run_label


class RunPicker(QWidget):
    """A combo box of run folders; ``run_changed`` carries the chosen folder."""

    run_changed = Signal(str)

    def __init__(self, runs_root: str | Path | None, accepts: Callable[[RunInfo], bool] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runs_root = Path(runs_root) if runs_root is not None else None
        self.accepts = accepts or (lambda info: True)
        self.combo = QComboBox()
        self.combo.setMinimumContentsLength(28)
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setPlaceholderText("no run yet — train one or open a run folder")
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("List the run folders again")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Run"))
        row.addWidget(self.combo, 1)
        row.addWidget(self.refresh_button)
        self.combo.currentIndexChanged.connect(self._index_changed)
        self.refresh_button.clicked.connect(self.refresh)
        self.listed = False  # the runs folder is read when first needed (hidden docks read nothing)

    def current(self) -> str | None:
        return self.combo.currentData()

    def paths(self) -> list[str]:
        return [self.combo.itemData(i) for i in range(self.combo.count())]

    @Slot()
    def refresh(self) -> None:
        """Re-read the runs folder, keeping the chosen run when it is still there (else the newest)."""
        before = self.current()
        self.listed = True
        infos = list_runs(self.runs_root) if self.runs_root is not None else []
        self.combo.blockSignals(True)
        self.combo.clear()
        for info in filter(self.accepts, infos):
            self.combo.addItem(self._label(info), str(info.path))
        paths = self.paths()
        self.combo.setCurrentIndex(paths.index(before) if before in paths else (0 if paths else -1))
        self.combo.blockSignals(False)
        if self.current() is not None and self.current() != before:
            self.run_changed.emit(self.current())

    def select(self, path: str | Path) -> bool:
        """Choose ``path`` (adding it when it is not listed, e.g. a run opened from elsewhere);
        False when this inspector cannot show such a run. Choosing the same run again looks again."""
        key = str(Path(path))
        if key not in self.paths():
            info = read_run(key)
            if not self.accepts(info):
                return False
            self.combo.blockSignals(True)
            self.combo.insertItem(0, self._label(info), key)
            self.combo.blockSignals(False)
        index = self.paths().index(key)
        if index == self.combo.currentIndex():
            self.run_changed.emit(key)
        else:
            self.combo.setCurrentIndex(index)
        return True

    @staticmethod
    def _label(info: RunInfo) -> str:
        return f"{run_label(info.path)} · {info.method or '?'} · {info.backbone or '?'} · {info.status}"

    @Slot(int)
    def _index_changed(self, index: int) -> None:
        if index >= 0:
            self.run_changed.emit(self.combo.itemData(index))


def follow_window(picker: RunPicker, window) -> None:
    """Keep ``picker`` on the run the person is looking at: selected in the Runs panel, or started."""
    def selected() -> None:
        path = window.run_list.selected_path()
        if path:
            picker.select(path)

    window.run_list.tree.itemSelectionChanged.connect(selected)
    window.session.started.connect(lambda _config, run_dir: picker.select(run_dir))
