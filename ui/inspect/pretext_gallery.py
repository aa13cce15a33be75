"""The pretext-task gallery: one image, every pretext task side by side, each drawn by the method's own ``preview``.

Rotation (Gidaris et al. 2018), relative patch location (Doersch et al. 2015), jigsaw puzzles
(Noroozi & Favaro 2016), colorization (Zhang et al. 2016) and context-encoder inpainting (Pathak
et al. 2016) turn an unlabeled image into a supervised question. Each column is built from the
method's preset at the image's size and calls :meth:`labbench.methods.Method.preview`, the same
views its training step makes. The image is the one selected in the dataset browser.
"""

from __future__ import annotations

import random
import threading

import numpy as np
import torch
from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QScrollArea, QVBoxLayout, QWidget

from labbench.methods import METHODS, Method, PreviewPanel, build_method
from labbench.run_config import RunConfig, load_preset
from ui.docks.augmentation_preview import order_panels
from ui.inspect.pictures import pixmap, to_rgb8
from ui.inspect.plot_style import ThemedWidget
from ui.inspect.task_bar import TaskBar

PRETEXT_METHODS = ("rotation", "relative_patch", "jigsaw", "colorization", "inpainting")
TILE = 120
MIN_SHARE = 0.3  # a 7-px patch is still drawn large enough to see


def pretext_config(name: str, image_size: int) -> RunConfig:
    """The method's preset (its paper's defaults) at ``image_size``."""
    config = load_preset(name)
    return config.model_copy(update={"data": config.data.model_copy(update={"image_size": image_size})})


class PretextMethods:
    """The pretext methods built once per image size (thread-safe; built off the GUI thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._size: int | None = None
        self._methods: dict[str, Method] = {}

    def previews(self, image: torch.Tensor, seed: int) -> dict[str, list[PreviewPanel]]:
        """Every pretext method's preview of uint8 ``image`` (3×H×W) with the same seed."""
        size = int(image.shape[-1])
        with self._lock, torch.inference_mode():
            if size != self._size:
                self._methods = {name: build_method(pretext_config(name, size)).eval() for name in PRETEXT_METHODS}
                self._size = size
            return {name: method.preview(image, torch.Generator().manual_seed(seed))
                    for name, method in self._methods.items()}


class _Column(QWidget):
    """One method: its name, what it asks, and its panels (labels made once, pictures replaced)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        method = METHODS[name]
        self.title = QLabel(name.replace("_", " ").capitalize())
        self.title.setProperty("role", "heading")
        self.summary = QLabel(method.summary or method.paper)
        self.summary.setWordWrap(True)
        self.summary.setProperty("role", "muted")
        self.summary.setToolTip(method.paper)
        self.grid = QGridLayout()
        self.grid.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.pictures: list[QLabel] = []
        self.captions: list[QLabel] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title)
        layout.addWidget(self.summary)
        layout.addLayout(self.grid)
        layout.addStretch(1)
        self.setFixedWidth(TILE + 24)

    def show_panels(self, panels: list[PreviewPanel], image_size: int) -> None:
        ordered = [p for _group, group_panels in order_panels(panels) for p in group_panels]
        if len(ordered) != len(self.pictures):
            self._make_tiles(len(ordered))
        for picture, caption, panel in zip(self.pictures, self.captions, ordered):
            share = min(max(panel.image.shape[0] / image_size, MIN_SHARE), 1.0)
            picture.setPixmap(pixmap(to_rgb8(np.asarray(panel.image)), round(TILE * share)))
            caption.setText(panel.title)
            picture.setToolTip(f"{panel.title}\n{panel.image.shape[1]}×{panel.image.shape[0]} px")

    def _make_tiles(self, count: int) -> None:
        while self.grid.count():
            self.grid.takeAt(0).widget().deleteLater()
        self.pictures = [QLabel() for _ in range(count)]
        self.captions = [QLabel() for _ in range(count)]
        for i, (picture, caption) in enumerate(zip(self.pictures, self.captions)):
            picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
            caption.setWordWrap(True)
            caption.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
            self.grid.addWidget(picture, 2 * i, 0)
            self.grid.addWidget(caption, 2 * i + 1, 0)


class PretextGallery(ThemedWidget):
    """The selected image through every pretext task's own preview, side by side."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image: torch.Tensor | None = None
        self._stale = False  # an image arrived while hidden
        self.seed = 0
        self.previews: dict[str, list[PreviewPanel]] = {}
        self._methods = PretextMethods()
        self.caption = QLabel("Select an image in the dataset browser.")
        self.caption.setProperty("role", "muted")
        self.reroll_button = QPushButton("Re-roll")
        self.reroll_button.setToolTip("New random rotations, patches, permutations and masks")
        top = QHBoxLayout()
        top.addWidget(self.caption, 1)
        top.addWidget(self.reroll_button)
        self.columns = {name: _Column(name) for name in PRETEXT_METHODS}
        row = QWidget()
        row_layout = QHBoxLayout(row)
        row_layout.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        for column in self.columns.values():
            row_layout.addWidget(column, 0, Qt.AlignmentFlag.AlignTop)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(row)
        self.tasks = TaskBar()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.tasks)
        self.reroll_button.clicked.connect(self.reroll)

    @Slot(object, str)
    def set_image(self, image: torch.Tensor, caption: str = "") -> None:
        """Show every pretext task on uint8 ``image`` (3×H×W), e.g. the dataset browser's selection."""
        self.image = image
        self.caption.setText(caption)
        self._stale = True
        if self.isVisible():
            self.redraw()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if self._stale:
            self.redraw()

    @Slot()
    def reroll(self) -> None:
        self.seed = random.randrange(1, 2**31)
        self.redraw()

    @Slot()
    def redraw(self) -> None:
        if self.image is None:
            return
        self._stale = False
        image, seed = self.image, self.seed
        self.tasks.start("drawing the pretext tasks", lambda progress: self._methods.previews(image, seed),
                         self._drawn)

    def _drawn(self, previews: dict[str, list[PreviewPanel]]) -> None:
        self.previews = previews
        size = int(self.image.shape[-1])
        for name, panels in previews.items():
            self.columns[name].show_panels(panels, size)
