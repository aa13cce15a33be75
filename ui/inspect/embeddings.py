"""Embedding clusters: the eval images' encoder features in 2-D (PCA, t-SNE, UMAP), coloured by class.

Hover a point to see its image; click one to see its nearest neighbours in feature space (cosine,
in the full feature space, not in the 2-D map); drag a rectangle to list the images inside it.
Features are computed once per checkpoint (:func:`labbench.evaluate.features.extract_features`)
and only the projection is recomputed when another one is chosen
(:func:`labbench.evaluate.projection.project`). All points live in one ScatterPlotItem, so
20 000 of them stay responsive.
"""

from __future__ import annotations

import html
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
import torch
from PySide6.QtCore import QPointF, QSize, Qt, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox, QFrame, QHBoxLayout, QLabel, QListView, QListWidget, QListWidgetItem, QPushButton, QSpinBox,
    QTabWidget, QVBoxLayout, QWidget,
)

from labbench.evaluate.features import extract_features
from labbench.evaluate.projection import PROJECTIONS, Projection, nearest_neighbours, project
from ui.inspect.pictures import chw_to_hwc, icon, pixmap
from ui.inspect.plot_style import class_colour, style_canvas, style_plot
from ui.inspect.run_cache import RUNS, device_of
from ui.inspect.run_viewer import RunViewer
from ui.theme import current_theme
from ui.widgets.labels import wrapping_label

PROJECTION_TITLES = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}
DEFAULT_POINTS = 20000
MAX_NEIGHBOURS = 16
THUMB = 56
HOVER_SIDE = 96
#: the region list shows at most this many thumbnails (the count and classes cover all of them)
MAX_LISTED = 300
FEATURE_SHARE = 0.3  # of the progress bar, when features and a projection are computed in one job


@dataclass
class FeatureSet:
    """Features of the eval images on show, with what the viewer needs to draw and retrieve them."""

    run_dir: str
    checkpoint_step: int
    features: torch.Tensor        # N×D, CPU
    images: np.ndarray            # N×H×W×3 uint8
    labels: np.ndarray | None     # N (−1: no class)
    indices: np.ndarray           # N, into the eval split
    class_names: list[str]
    epoch: int

    def class_name(self, label: int) -> str:
        return self.class_names[label] if 0 <= label < len(self.class_names) else "no class"


class HoverCard(QFrame):
    """A thumbnail with a caption, floating over the plot next to the mouse."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.Box)
        self.setAutoFillBackground(True)
        self.picture = QLabel()
        self.caption = QLabel()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(3, 3, 3, 3)
        layout.setSpacing(2)
        layout.addWidget(self.picture, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.caption, 0, Qt.AlignmentFlag.AlignHCenter)
        self.hide()
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)

    def show_at(self, rgb: np.ndarray, caption: str, where: QPointF) -> None:
        self.picture.setPixmap(pixmap(rgb, HOVER_SIDE))
        self.caption.setText(caption)
        self.adjustSize()
        parent = self.parentWidget()
        x = min(int(where.x()) + 14, parent.width() - self.width())
        y = min(int(where.y()) + 14, parent.height() - self.height())
        self.move(max(x, 0), max(y, 0))
        self.raise_()
        self.show()


class EmbeddingViewer(RunViewer):
    """Encoder features of a run's eval split, projected to 2-D, with hover, retrieval and region lists."""

    NO_QUERY = "Click a point: its nearest neighbours in feature space appear here."
    NO_REGION = "Press Select region, then drag and resize the rectangle: the images inside it appear here."

    def __init__(self, parent: QWidget | None = None) -> None:
        self.data: FeatureSet | None = None
        self.projection: Projection | None = None
        self.query: int | None = None
        self.neighbours: tuple[np.ndarray, np.ndarray] | None = None
        self.region: np.ndarray = np.empty(0, dtype=np.int64)  # rows inside the rectangle
        super().__init__(parent)

        self.method_combo = QComboBox()
        for name in PROJECTIONS:
            self.method_combo.addItem(PROJECTION_TITLES[name], name)
        self.method_combo.setToolTip("PCA is immediate; t-SNE and UMAP take a while for many points (with progress)")
        self.points_spin = QSpinBox()
        self.points_spin.setRange(100, 100_000)
        self.points_spin.setSingleStep(1000)
        self.points_spin.setValue(DEFAULT_POINTS)
        self.points_spin.setPrefix("up to ")
        self.points_spin.setSuffix(" images")
        self.points_spin.setToolTip("How many eval images to embed (a fixed random subset when the split is larger)")
        self.k_spin = QSpinBox()
        self.k_spin.setRange(1, MAX_NEIGHBOURS)
        self.k_spin.setValue(8)
        self.k_spin.setPrefix("k = ")
        self.k_spin.setToolTip("Neighbours shown when you click a point")
        self.region_button = QPushButton("Select region")
        self.region_button.setCheckable(True)
        self.region_button.setToolTip("Drag and resize a rectangle to list the images inside it")
        self.compute_button = QPushButton("Compute")
        self.compute_button.setToolTip("Embed the eval images with the run's latest checkpoint")
        controls = QHBoxLayout()
        for widget in (QLabel("Projection"), self.method_combo, self.points_spin, self.k_spin, self.region_button):
            controls.addWidget(widget)
        controls.addStretch(1)
        controls.addWidget(self.compute_button)

        self.plot_widget = pg.PlotWidget()
        self.plot = self.plot_widget.getPlotItem()
        self.plot.setAspectLocked(False)
        self.scatter = pg.ScatterPlotItem(size=6, pen=None, hoverable=True, hoverSize=9, tip=None)
        self.plot.addItem(self.scatter)
        self.marks = pg.ScatterPlotItem(size=13, brush=None)  # the clicked point and its neighbours
        self.plot.addItem(self.marks)
        self.roi = pg.RectROI((0, 0), (1, 1), removable=False)
        self.roi.hide()
        self.plot.addItem(self.roi)
        self.card = HoverCard(self.plot_widget)
        self.classes = wrapping_label(rich=True)  # the colour key, beside the plot rather than over its points
        self.caption = wrapping_label()

        # Below the plot, one strip of fixed height: the clicked point's neighbours, or the region's images.
        # Switching between them never takes height from the scatter.
        self.retrieval = QListWidget()
        self._icon_strip(self.retrieval, THUMB, wrap=False)
        self.retrieval_title = wrapping_label(self.NO_QUERY)
        self.region_title = wrapping_label(self.NO_REGION)
        self.region_list = QListWidget()
        self._icon_strip(self.region_list, 40, wrap=True)
        self.results = QTabWidget()
        for title, heading, strip in (("Nearest neighbours", self.retrieval_title, self.retrieval),
                                      ("Region", self.region_title, self.region_list)):
            page = QWidget()
            column = QVBoxLayout(page)
            column.setContentsMargins(2, 2, 2, 2)
            column.addWidget(heading)
            column.addWidget(strip, 1)
            self.results.addTab(page, title)
        self.results.setFixedHeight(THUMB + 110)

        self.body.addLayout(controls)
        self.body.addWidget(self.classes)
        self.body.addWidget(self.plot_widget, 1)
        self.body.addWidget(self.caption)
        self.body.addWidget(self.results)

        self.scatter.sigHovered.connect(self._hovered)
        self.scatter.sigClicked.connect(self._clicked)
        self.roi.sigRegionChangeFinished.connect(self._region_moved)
        self.region_button.toggled.connect(self.set_region_mode)
        self.method_combo.currentIndexChanged.connect(lambda _i: self.compute())
        self.compute_button.clicked.connect(self.recompute)
        self.k_spin.valueChanged.connect(self._k_changed)
        self.restyle()

    @staticmethod
    def _icon_strip(widget: QListWidget, side: int, wrap: bool) -> None:
        widget.setViewMode(QListView.ViewMode.IconMode)
        widget.setFlow(QListView.Flow.LeftToRight)
        widget.setWrapping(wrap)
        widget.setResizeMode(QListView.ResizeMode.Adjust)
        widget.setIconSize(QSize(side, side))
        widget.setSpacing(2)

    # -- computing -------------------------------------------------------------------------
    def reload(self) -> None:
        self.compute()

    def probe_written(self, event) -> None:
        # embedding the whole eval split every epoch would slow the training it watches: the person decides
        self.tasks.show_message(f"Epoch {event.epoch} of this run has finished: press Compute to embed "
                                "the eval images with its newer checkpoint.")

    @Slot()
    def recompute(self) -> None:
        """Embed again from the latest checkpoint (e.g. a run that has trained on)."""
        self.data = None
        self.compute()

    def projection_method(self) -> str:
        return self.method_combo.currentData()

    @Slot()
    def compute(self) -> None:
        """Project the features on show with the chosen method; embed first when there are none for this run."""
        if self.run_dir is None:
            return
        run_dir, method, limit = self.run_dir, self.projection_method(), self.points_spin.value()
        data = self.data if self.data is not None and self.data.run_dir == run_dir else None

        def work(progress):
            features = data or self._embed(run_dir, limit, progress)
            share = 0.0 if data is not None else FEATURE_SHARE

            def projected(done: int, total: int) -> bool:
                return progress(round(1000 * (share + (1 - share) * done / max(total, 1))), 1000)

            return features, project(features.features, method, features.labels, np.arange(len(features.features)),
                                     progress=projected)

        what = f"{PROJECTION_TITLES[method]} of the eval features" if data else "embedding the eval images"
        self.tasks.start(what, work, self._projected)

    @staticmethod
    def _embed(run_dir: str, limit: int, progress) -> FeatureSet:
        loaded = RUNS.loaded(run_dir)
        eval_set = RUNS.eval_set(run_dir, loaded.config)
        if len(eval_set) > limit:
            keep = torch.randperm(len(eval_set), generator=torch.Generator().manual_seed(0))[:limit].sort().values
            eval_set = eval_set.subset(keep)
            indices = keep.numpy()
        else:
            indices = np.arange(len(eval_set))

        def share(done: int, total: int) -> bool:
            return progress(round(1000 * FEATURE_SHARE * done / max(total, 1)), 1000)

        features = extract_features(loaded.method.embed, eval_set.images, loaded.config.data.image_size,
                                    device_of(loaded), progress=share).cpu()
        return FeatureSet(run_dir, loaded.step, features, chw_to_hwc(eval_set.images),
                          None if eval_set.labels is None else eval_set.labels.numpy(), indices,
                          list(eval_set.class_names), loaded.epoch)

    def _projected(self, result: tuple[FeatureSet, Projection]) -> None:
        self.data, projection = result
        self.show_projection(projection)

    # -- drawing ---------------------------------------------------------------------------
    def show_projection(self, projection: Projection) -> None:
        """Draw ``projection`` (its rows are the rows of ``self.data``)."""
        self.projection = projection
        self.query, self.neighbours = None, None
        self.marks.setData([])
        self.retrieval.clear()
        self.retrieval_title.setText(self.NO_QUERY)  # the old neighbours are gone: so is their caption
        self._draw_points()
        self.plot.autoRange()
        d = self.data
        self.caption.setText(
            f"{len(projection.points):,} eval images, {d.features.shape[1]}-dimensional features of the checkpoint "
            f"at epoch {d.epoch} (step {d.checkpoint_step}), {PROJECTION_TITLES[projection.method]}. "
            "Neighbours are found in the full feature space.")
        if self.region_button.isChecked():
            self._place_roi()

    def _draw_points(self) -> None:
        if self.projection is None:
            return
        labels = self.data.labels
        n = len(self.projection.points)
        if labels is None:
            brushes = pg.mkBrush(current_theme().highlight)
        else:
            palette = {c: pg.mkBrush(class_colour(c) if c >= 0 else current_theme().muted) for c in np.unique(labels)}
            brushes = [palette[c] for c in labels.tolist()]
        self.scatter.setData(pos=self.projection.points, brush=brushes, data=np.arange(n))
        self._fill_legend()

    def _fill_legend(self) -> None:
        if self.data is None or self.data.labels is None:
            self.classes.setText("")
            self.classes.hide()
            return
        self.classes.setText(" &nbsp; ".join(
            f"<span style='color:{(class_colour(c) if c >= 0 else QColor(current_theme().muted)).name()}'>●</span>"
            f"&nbsp;{html.escape(self.data.class_name(int(c)))}" for c in np.unique(self.data.labels)))
        self.classes.show()

    def caption_of(self, row: int) -> str:
        d = self.data
        name = "" if d.labels is None or d.labels[row] < 0 else d.class_name(int(d.labels[row]))
        return f"#{int(d.indices[row])} {name}".strip()

    # -- hover, click, region --------------------------------------------------------------
    def _hovered(self, _item, points, event) -> None:
        if len(points) == 0 or self.data is None:
            self.card.hide()
            return
        row = int(points[0].data())
        where = self.plot_widget.mapFromScene(event.scenePos()) if event is not None else QPointF(0, 0)
        self.card.show_at(self.data.images[row], self.caption_of(row), QPointF(where))

    def _clicked(self, _item, points, _event) -> None:
        if len(points):
            self.retrieve(int(points[0].data()))

    def retrieve(self, row: int) -> None:
        """Show row ``row``'s nearest neighbours (cosine in feature space) in the retrieval strip."""
        self.query = row
        k = self.k_spin.value()
        self.neighbours = nearest_neighbours(self.data.features, row, k)
        idx, sims = self.neighbours
        theme = current_theme()
        self.marks.setData(pos=self.projection.points[np.concatenate([[row], idx])],
                           pen=[pg.mkPen(theme.text, width=2)] + [pg.mkPen(theme.warning, width=2)] * len(idx))
        self.retrieval.clear()
        self.results.setCurrentIndex(0)
        query = QListWidgetItem(icon(self.data.images[row], THUMB), f"query\n{self.caption_of(row)}")
        query.setToolTip("the clicked image")
        self.retrieval.addItem(query)
        for rank, (j, s) in enumerate(zip(idx.tolist(), sims.tolist()), start=1):
            item = QListWidgetItem(icon(self.data.images[j], THUMB), f"{rank}: {s:.2f}\n{self.caption_of(j)}")
            item.setToolTip(f"neighbour {rank}, cosine similarity {s:.3f}")
            self.retrieval.addItem(item)
        same = ""
        if self.data.labels is not None:
            agree = int((self.data.labels[idx] == self.data.labels[row]).sum())
            same = f" — {agree} of {len(idx)} share its class"
        self.retrieval_title.setText(f"Nearest neighbours of {self.caption_of(row)} (cosine similarity){same}")

    @Slot(int)
    def _k_changed(self, _k: int) -> None:
        if self.query is not None:
            self.retrieve(self.query)

    @Slot(bool)
    def set_region_mode(self, on: bool) -> None:
        self.roi.setVisible(on)
        self.results.setCurrentIndex(1 if on else 0)
        if on:
            self._place_roi()
        else:
            self.region = np.empty(0, dtype=np.int64)
            self.region_list.clear()
            self.region_title.setText(self.NO_REGION)

    def _place_roi(self) -> None:
        (x0, x1), (y0, y1) = self.plot.viewRange()
        self.roi.setPos((x0 + 0.35 * (x1 - x0), y0 + 0.35 * (y1 - y0)), finish=False)
        self.roi.setSize((0.3 * (x1 - x0), 0.3 * (y1 - y0)))  # finishes: lists what is inside

    def select_rect(self, x: float, y: float, width: float, height: float) -> np.ndarray:
        """Put the selection rectangle at (x, y) of size (width, height) in plot units; the rows inside."""
        if not self.region_button.isChecked():
            self.region_button.setChecked(True)
        self.roi.setPos((x, y), finish=False)
        self.roi.setSize((width, height))
        return self.region

    def _region_moved(self) -> None:
        if self.projection is None:
            return
        (x, y), (w, h) = self.roi.pos(), self.roi.size()
        p = self.projection.points
        inside = (p[:, 0] >= x) & (p[:, 0] <= x + w) & (p[:, 1] >= y) & (p[:, 1] <= y + h)
        self.region = np.flatnonzero(inside)
        self.region_list.clear()
        for row in self.region[:MAX_LISTED].tolist():
            item = QListWidgetItem(icon(self.data.images[row], 40), "")
            item.setToolTip(self.caption_of(row))
            self.region_list.addItem(item)
        classes = ""
        if self.data.labels is not None and len(self.region):
            counts = Counter(self.data.labels[self.region].tolist())
            classes = ": " + ", ".join(f"{n} {self.data.class_name(c)}" for c, n in counts.most_common())
        shown = f" (the first {MAX_LISTED} shown)" if len(self.region) > MAX_LISTED else ""
        self.region_title.setText(f"{len(self.region)} images in the rectangle{classes}{shown}")

    def restyle(self) -> None:
        style_canvas(self.plot_widget)
        style_plot(self.plot, "Eval images in feature space")
        self.roi.setPen(pg.mkPen(current_theme().warning, width=2))
        self._draw_points()
