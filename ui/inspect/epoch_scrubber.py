"""A slider over the epochs a run has probe files for (``probes/epoch-XXXX.npz``)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSlider, QWidget


class EpochScrubber(QWidget):
    """Pick one of ``epochs``; with "latest" ticked it moves to each new epoch as training writes it."""

    epoch_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.epochs: list[int] = []
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setToolTip("Scrub through training: the probe images as the model saw them "
                               "at the end of each epoch")
        self.slider.setPageStep(1)
        self.label = QLabel("no epochs yet")
        self.label.setMinimumWidth(90)
        self.follow = QCheckBox("latest")
        self.follow.setChecked(True)
        self.follow.setToolTip("Follow a training run: show each epoch as soon as it is written")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Epoch"))
        row.addWidget(self.slider, 1)
        row.addWidget(self.label)
        row.addWidget(self.follow)
        self.slider.valueChanged.connect(self._moved)
        self.set_epochs([])

    def epoch(self) -> int | None:
        return self.epochs[self.slider.value()] if self.epochs else None

    def set_epochs(self, epochs: list[int]) -> None:
        """The epochs to choose from; keeps the chosen one (or jumps to the last when following).
        Emits ``epoch_changed`` when the chosen epoch is new."""
        before = self.epoch()
        self.epochs = list(epochs)
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(len(self.epochs) - 1, 0))
        if self.epochs:
            keep = before in self.epochs and not self.follow.isChecked()
            self.slider.setValue(self.epochs.index(before) if keep else len(self.epochs) - 1)
        self.slider.blockSignals(False)
        self.slider.setEnabled(len(self.epochs) > 1)
        self._show_label()
        if self.epoch() is not None and self.epoch() != before:
            self.epoch_changed.emit(self.epoch())

    def set_epoch(self, epoch: int) -> None:
        self.slider.setValue(self.epochs.index(epoch))

    @Slot(int)
    def _moved(self, index: int) -> None:
        self.follow.setChecked(index == len(self.epochs) - 1 and self.follow.isChecked())
        self._show_label()
        if self.epochs:
            self.epoch_changed.emit(self.epochs[index])

    def _show_label(self) -> None:
        self.label.setText(f"{self.epoch()} of {self.epochs[-1]}" if self.epochs else "no epochs yet")
