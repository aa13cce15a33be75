"""SimCLR's 2N×2N cosine-similarity matrix for a real batch (Chen et al. 2020, Fig. 2), positives marked.

Rows and columns are the first views of N eval images, then their second views, in NT-Xent's order
(:func:`labbench.evaluate.affinity.affinity_matrix`): the positive of row i is column i ± N (outlined),
the diagonal is each view with itself, everything else is a negative. A trained encoder shows two
bright off-diagonals on a darker field. Hover a cell for its value.
"""

from __future__ import annotations

import random

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSignalBlocker, QSize, Qt, Slot
from PySide6.QtWidgets import (
    QComboBox, QHBoxLayout, QLabel, QListView, QListWidget, QListWidgetItem, QPushButton, QSpinBox, QWidget,
)

from labbench.evaluate.affinity import AffinityMatrix, affinity_matrix
from ui.inspect.pictures import chw_to_hwc, icon
from ui.inspect.plot_style import style_canvas, style_plot
from ui.inspect.run_cache import RUNS, device_of
from ui.inspect.run_viewer import RunViewer
from ui.theme import current_theme
from ui.widgets.labels import wrapping_label

COLOUR_MAP = pg.colormap.get("CET-D1")  # diverging: −1 blue, 0 grey, +1 red
PROJECTION_TEXT = "projection (what NT-Xent compares)"
NO_HEAD_TEXT = "projection (none: this run's method has no projection head)"
THUMB = 28


def positive_wins(matrix: AffinityMatrix) -> float:
    """Share of rows whose positive is their most similar other view (NT-Xent's top-1 'accuracy')."""
    sim = matrix.similarity.copy()
    np.fill_diagonal(sim, -np.inf)
    return float((sim.argmax(axis=1) == matrix.positives[:, 1]).mean())


class AffinityViewer(RunViewer):
    """A run's 2N×2N similarity matrix on a batch of eval images, re-drawn for any batch size."""

    def __init__(self, parent: QWidget | None = None) -> None:
        self.matrix: AffinityMatrix | None = None
        self.matrix_run: str | None = None  # the run the matrix on show is of
        self.seed = 0
        self.images: np.ndarray | None = None  # N×H×W×3 of the batch on show
        super().__init__(parent)

        self.batch_spin = QSpinBox()
        self.batch_spin.setRange(2, 256)
        self.batch_spin.setValue(16)
        self.batch_spin.setPrefix("N = ")
        self.batch_spin.setToolTip("Images in the batch: the matrix is 2N × 2N")
        self.space_combo = QComboBox()
        self.space_combo.addItem(PROJECTION_TEXT, "projection")
        self.space_combo.addItem("encoder features", "encoder")
        self.new_button = QPushButton("New batch")
        self.new_button.setToolTip("Draw other images and other augmentations")
        controls = QHBoxLayout()
        for widget in (QLabel("Batch"), self.batch_spin, QLabel("Space"), self.space_combo):
            controls.addWidget(widget)
        controls.addStretch(1)
        controls.addWidget(self.new_button)

        self.strip = QListWidget()
        self.strip.setViewMode(QListView.ViewMode.IconMode)
        self.strip.setFlow(QListView.Flow.LeftToRight)
        self.strip.setWrapping(False)
        self.strip.setIconSize(QSize(THUMB, THUMB))
        self.strip.setFixedHeight(THUMB + 22)
        self.strip.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.strip.setToolTip("The batch: image k gives row/column k (view 1) and k + N (view 2)")

        self.canvas = pg.GraphicsLayoutWidget()
        self.plot = self.canvas.addPlot()
        self.plot.setAspectLocked(True)
        self.plot.invertY(True)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.setLabel("bottom", "column: view 1 of images 1…N, then view 2")
        self.plot.setLabel("left", "row")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(COLOUR_MAP)
        self.plot.addItem(self.image)
        self.positives = pg.ScatterPlotItem(pxMode=False, size=1.0, symbol="s", brush=None)
        self.plot.addItem(self.positives)
        self.dividers = self.plot.plot(connect="pairs")  # view 1 | view 2, across and down
        self.colour_bar = pg.ColorBarItem(values=(-1, 1), colorMap=COLOUR_MAP, interactive=False, label="cosine")
        self.colour_bar.setImageItem(self.image, insert_in=self.plot)
        self.hover = wrapping_label("Hover a cell for its similarity.")
        self.summary = wrapping_label()

        self.body.addLayout(controls)
        self.body.addWidget(self.strip)
        self.body.addWidget(self.canvas, 1)
        self.body.addWidget(self.hover)
        self.body.addWidget(self.summary)
        self.batch_spin.valueChanged.connect(lambda _n: self.compute())
        self.space_combo.currentIndexChanged.connect(lambda _i: self.compute())
        self.new_button.clicked.connect(self.new_batch)
        self.canvas.scene().sigMouseMoved.connect(self._mouse_moved)
        self.restyle()

    # -- computing -------------------------------------------------------------------------
    def reload(self) -> None:
        if self.matrix is not None and self.matrix_run != self.run_dir:  # another run: offer its projection
            self._show_space("projection")
            with QSignalBlocker(self.space_combo):
                self.space_combo.setCurrentIndex(self.space_combo.findData("projection"))
        self.compute()

    @Slot()
    def new_batch(self) -> None:
        self.seed = random.randrange(1, 2**31)
        self.compute()

    @Slot()
    def compute(self) -> None:
        """The matrix for the chosen batch size, space and seed, from the run's latest checkpoint."""
        if self.run_dir is None:
            return
        run_dir, n, space, seed = self.run_dir, self.batch_spin.value(), self.space_combo.currentData(), self.seed

        def work(progress):
            loaded = RUNS.loaded(run_dir)
            images = RUNS.eval_set(run_dir, loaded.config).images
            matrix = affinity_matrix(loaded.method, images, n, space=space, seed=seed, device=device_of(loaded))
            return matrix, chw_to_hwc(images[matrix.indices])

        self.tasks.start(f"embedding two views of {n} images", work, lambda result: self._computed(run_dir, result))

    def _computed(self, run_dir: str, result: tuple[AffinityMatrix, np.ndarray]) -> None:
        self.matrix, self.images = result
        self.matrix_run = run_dir
        self._show_space(self.matrix.space)
        self.redraw()

    def _show_space(self, used: str) -> None:
        """The Space box says the space the matrix is in: a method without a projection head (MAE) has
        only its encoder's features, and the projection choice says so."""
        projection = self.space_combo.findData("projection")
        has_head = used == "projection" or self.space_combo.currentData() == "encoder"
        self.space_combo.setItemText(projection, PROJECTION_TEXT if has_head else NO_HEAD_TEXT)
        item = self.space_combo.model().item(projection)
        if used != self.space_combo.currentData():
            item.setEnabled(False)
            with QSignalBlocker(self.space_combo):
                self.space_combo.setCurrentIndex(self.space_combo.findData(used))
        elif has_head:
            item.setEnabled(True)

    # -- drawing ---------------------------------------------------------------------------
    def redraw(self) -> None:
        m = self.matrix
        if m is None:
            return
        n = m.batch_size
        self.image.setImage(m.similarity, levels=(-1, 1))
        self.image.setRect(0, 0, 2 * n, 2 * n)
        self.positives.setData(pos=m.positives[:, ::-1] + 0.5)  # (column, row) of each cell, at its centre
        self.dividers.setData([n, n, 0, 2 * n], [0, 2 * n, n, n], connect="pairs")
        self.plot.setRange(xRange=(0, 2 * n), yRange=(0, 2 * n), padding=0.02)
        self.strip.clear()
        for k, rgb in enumerate(self.images):
            item = QListWidgetItem(icon(rgb, THUMB), "")
            item.setToolTip(f"image {k + 1}: eval image {int(m.indices[k])}")
            self.strip.addItem(item)
        mask = m.positive_mask()
        off = ~np.eye(2 * n, dtype=bool) & ~mask
        self.summary.setText(
            f"{2 * n}×{2 * n} cosine similarities in {m.space} space. Mean over positives "
            f"<b>{m.similarity[mask].mean():.3f}</b>, over negatives <b>{m.similarity[off].mean():.3f}</b>; "
            f"the positive is a row's most similar other view in <b>{positive_wins(m):.0%}</b> of rows "
            f"(chance {1 / (2 * n - 1):.1%}).")

    def _mouse_moved(self, scene_pos) -> None:
        m = self.matrix
        if m is None or not self.plot.vb.sceneBoundingRect().contains(scene_pos):
            return
        p = self.plot.vb.mapSceneToView(scene_pos)
        row, col = int(np.floor(p.y())), int(np.floor(p.x()))
        n = m.batch_size
        if not (0 <= row < 2 * n and 0 <= col < 2 * n):
            self.hover.setText("Hover a cell for its similarity.")
            return
        kind = "itself" if row == col else "positive pair" if abs(row - col) == n else "negative"
        self.hover.setText(f"row {row} (image {row % n + 1}, view {row // n + 1}) × column {col} "
                           f"(image {col % n + 1}, view {col // n + 1}): cosine {m.similarity[row, col]:+.3f} — {kind}")

    def restyle(self) -> None:
        theme = current_theme()
        style_canvas(self.canvas)
        style_plot(self.plot, "2N × 2N cosine similarity (outlined: positive pairs)")
        self.positives.setPen(pg.mkPen(theme.text, width=2))
        self.dividers.setPen(pg.mkPen(theme.plot_foreground, width=1, style=Qt.PenStyle.DashLine))
        self.colour_bar.axis.setTextPen(pg.mkPen(theme.plot_foreground))
        self.redraw()
