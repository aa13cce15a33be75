"""A study's result plot, drawn to fit its axes: bars for named variants, a line over a numeric axis,
a heat map for two axes. Items are made once per study and refilled with each result; a click on a
bar, a point or a square names that cell (the panel opens its run)."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QVBoxLayout, QWidget

from labbench.studies import Cell, Study
from labbench.studies.measures import MEASURES
from ui.inspect.plot_style import ThemedWidget, class_colour, style_canvas, style_plot
from ui.theme import current_theme

BAR_GROUP_WIDTH = 0.8  # of the space between two variants


def plot_kind(study: Study) -> str:
    """``heatmap`` for two axes, ``line`` for one numeric axis, ``bars`` otherwise."""
    if len(study.axes) == 2:
        return "heatmap"
    return "line" if study.axes[0].numeric and len(study.axes[0]) > 1 else "bars"


class StudyPlot(ThemedWidget):
    """The plot of one study; ``show_study`` makes its items, ``update_cells`` fills them."""

    cell_clicked = Signal(object)  # the cell (a tuple of axis positions)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.canvas = pg.PlotWidget()
        self.plot: pg.PlotItem = self.canvas.getPlotItem()
        self.plot.setMenuEnabled(False)
        self.plot.getViewBox().setMouseEnabled(x=False, y=False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas)
        self.canvas.scene().sigMouseClicked.connect(self._clicked)
        self.study: Study | None = None
        self.kind = ""
        self._bars: list[pg.BarGraphItem] = []
        self._lines: list[pg.PlotDataItem] = []
        self._errors: list[pg.ErrorBarItem] = []
        self._image: pg.ImageItem | None = None
        self._texts: dict[tuple[int, int], pg.TextItem] = {}
        self._reference: pg.InfiniteLine | None = None
        self._drawn: dict[str, np.ndarray] = {}
        self.restyle()

    # -- building ---------------------------------------------------------------------------------

    def show_study(self, study: Study) -> None:
        """Make the items that fit ``study``'s axes (once per study)."""
        self.study, self.kind = study, plot_kind(study)
        self.plot.clear()
        self.plot.setLogMode(x=False, y=False)
        self.plot.getViewBox().invertY(False)
        self._bars, self._lines, self._errors, self._texts, self._image, self._reference = [], [], [], {}, None, None
        self._drawn = {}
        if self.kind == "heatmap":
            self._make_heatmap(study)
        else:
            (self._make_line if self.kind == "line" else self._make_bars)(study)
            value_side = "bottom" if self.kind == "bars" else "left"
            accuracies = all(MEASURES[m].accuracy for m in study.measures)
            self.plot.setLabel(value_side, "accuracy (%)" if accuracies else "%")
            self._reference = pg.InfiniteLine(angle=90 if self.kind == "bars" else 0, movable=False, label="untrained",
                                              labelOpts={"position": 0.95, "color": current_theme().muted},
                                              pen=pg.mkPen(current_theme().muted, style=Qt.PenStyle.DashLine))
            self._reference.setVisible(False)
            self.plot.addItem(self._reference)
        self.restyle()

    def _make_bars(self, study: Study) -> None:
        """Horizontal bars, a variant per row (names of any length stay readable), a bar per measure."""
        axis, n = study.axes[0], len(study.measures)
        thickness = BAR_GROUP_WIDTH / n
        for k in range(n):
            y = np.arange(len(axis)) - BAR_GROUP_WIDTH / 2 + thickness * (k + 0.5)
            bars = pg.BarGraphItem(x0=np.zeros(len(axis)), y=y, width=np.zeros(len(axis)), height=thickness * 0.9,
                                   brush=class_colour(k))
            self._bars.append(bars)
            self.plot.addItem(bars)
            errors = pg.ErrorBarItem(x=np.zeros(len(axis)), y=y, width=np.zeros(len(axis)), beam=thickness * 0.3)
            self._errors.append(errors)
            self.plot.addItem(errors)
        self._label_axis("left", axis.labels, np.arange(len(axis)))
        self.plot.getViewBox().invertY(True)  # the first variant on top, as in the table
        self.plot.setYRange(-0.6, len(axis) - 0.4, padding=0)

    def _label_axis(self, side: str, labels: list[str], positions: np.ndarray) -> None:
        axis = self.plot.getAxis(side)
        axis.setTicks([list(zip(positions.tolist(), labels))])
        if side == "left":  # pyqtgraph sizes the axis for numbers: make room for the names and the axis title
            metrics = QFontMetrics(axis.font())
            axis.setWidth(metrics.horizontalAdvance(max(labels, key=len)) + 2 * metrics.height() + 12)

    def _make_line(self, study: Study) -> None:
        axis = study.axes[0]
        self.plot.setLogMode(x=axis.scale == "log", y=False)
        for k in range(len(study.measures)):
            colour = class_colour(k)
            line = pg.PlotDataItem(symbol="o", symbolSize=9, pen=pg.mkPen(colour, width=2), symbolBrush=colour,
                                   connect="finite")
            self._lines.append(line)
            self.plot.addItem(line)
            errors = pg.ErrorBarItem(x=self._line_x(), y=np.zeros(len(axis)), height=np.zeros(len(axis)), beam=0)
            self._errors.append(errors)
            self.plot.addItem(errors)
        self._label_axis("bottom", axis.labels, self._line_x())
        self.plot.setLabel("bottom", axis.name)

    def _line_x(self) -> np.ndarray:
        """The numeric axis's values where pyqtgraph draws them (log10 in log mode)."""
        axis = self.study.axes[0]
        values = np.asarray(axis.values, dtype=float)
        return np.log10(values) if axis.scale == "log" else values

    def _make_heatmap(self, study: Study) -> None:
        rows, cols = study.axes
        self._image = pg.ImageItem(axisOrder="row-major")
        self._image.setColorMap(pg.colormap.get("viridis"))
        self.plot.addItem(self._image)
        for r in range(len(rows)):
            for c in range(len(cols)):
                text = pg.TextItem("", anchor=(0.5, 0.5))
                text.setPos(c + 0.5, r + 0.5)
                self.plot.addItem(text)
                self._texts[r, c] = text
        self._label_axis("left", rows.labels, np.arange(len(rows)) + 0.5)
        self._label_axis("bottom", cols.labels, np.arange(len(cols)) + 0.5)
        self.plot.setLabel("left", rows.name)
        self.plot.setLabel("bottom", cols.name)
        self.plot.getViewBox().invertY(True)
        self.plot.setRange(xRange=(0, len(cols)), yRange=(0, len(rows)), padding=0.02)

    # -- filling ----------------------------------------------------------------------------------

    def update_cells(self, cells: dict[tuple[int, ...], Cell]) -> None:
        """Draw the results recorded so far (a cell without one stays empty)."""
        if self.study is None:
            return
        if self.kind == "heatmap":
            self._fill_heatmap(cells)
            return
        order = [cells[(i,)] for i in range(len(self.study.axes[0]))]
        for k, measure in enumerate(self.study.measures):
            means = np.array([np.nan if c.mean(measure) is None else 100 * c.mean(measure) for c in order])
            errors = np.array([100 * c.noise(measure) if len(c.values(measure)) >= 2 else 0.0 for c in order])
            self._drawn[measure] = means
            if self.kind == "bars":
                self._bars[k].setOpts(width=np.nan_to_num(means))
                self._errors[k].setData(x=np.nan_to_num(means), y=self._bars[k].opts["y"], width=2 * errors)
            else:
                self._lines[k].setData(np.asarray(self.study.axes[0].values, dtype=float), means)  # it maps log itself
                self._errors[k].setData(x=self._line_x(), y=np.nan_to_num(means), height=2 * errors)
        untrained = [c.untrained_knn() for c in order if c.untrained_knn() is not None]
        show = self.study.measures[0] == "knn" and bool(untrained)
        if show:
            self._reference.setValue(100 * sum(untrained) / len(untrained))
        self._reference.setVisible(show)

    def _fill_heatmap(self, cells: dict[tuple[int, ...], Cell]) -> None:
        rows, cols = self.study.axes
        measure = self.study.measures[0]
        grid = np.full((len(rows), len(cols)), np.nan)
        for (r, c) in self._texts:
            value = cells[self.study.canonical((r, c))].mean(measure)
            grid[r, c] = np.nan if value is None else 100 * value
        self._drawn[measure] = grid
        present = grid[np.isfinite(grid)]
        low, high = (float(present.min()), float(present.max())) if present.size else (0.0, 1.0)
        high = high if high > low else low + 1
        # a cell without a result is drawn at the bottom of the scale, with no figure on it
        self._image.setImage(np.where(np.isfinite(grid), grid, low), levels=(low, high))
        self._image.setRect(0, 0, len(cols), len(rows))
        for (r, c), text in self._texts.items():
            cell = cells[self.study.canonical((r, c))]
            value = cell.mean(measure)
            text.setText(MEASURES[measure].format(value) if value is not None else "diverged" if cell.diverged else "")
            # viridis is dark at the bottom and light at the top: the figure takes the other end
            text.setColor("k" if np.isfinite(grid[r, c]) and (grid[r, c] - low) / (high - low) > 0.6 else "w")

    def drawn(self, measure: str) -> np.ndarray:
        """What is drawn for ``measure``, in percent (NaN where nothing is)."""
        return self._drawn.get(measure, np.array([]))

    # -- clicks -----------------------------------------------------------------------------------

    def cell_at(self, point: QPointF) -> tuple[int, ...] | None:
        """The cell under a point in the plot's data coordinates."""
        if self.study is None:
            return None
        x, y = point.x(), point.y()
        if self.kind == "heatmap":
            r, c = math.floor(y), math.floor(x)
            n_rows, n_cols = len(self.study.axes[0]), len(self.study.axes[1])
            return self.study.canonical((r, c)) if 0 <= r < n_rows and 0 <= c < n_cols else None
        if self.kind == "bars":
            i = round(y)
            return (i,) if 0 <= i < len(self.study.axes[0]) and abs(y - i) <= BAR_GROUP_WIDTH / 2 else None
        xs = self._line_x()
        return (int(np.argmin(np.abs(xs - x))),)

    def _clicked(self, event) -> None:
        box = self.plot.getViewBox()
        if box.sceneBoundingRect().contains(event.scenePos()):
            cell = self.cell_at(box.mapSceneToView(event.scenePos()))
            if cell is not None:
                self.cell_clicked.emit(cell)

    def _title(self) -> str:
        """What is drawn, each measure in its colour (the legend, where it covers nothing)."""
        study = self.study
        measures = study.measures[:1] if self.kind == "heatmap" else study.measures
        names = [MEASURES[m].title if len(measures) == 1 else
                 f'<span style="color: {class_colour(k).name()}">■ {MEASURES[m].title}</span>'
                 for k, m in enumerate(measures)]
        return f"{' · '.join(names)} after {study.budget.describe()} per run"

    def restyle(self) -> None:
        style_canvas(self.canvas)
        style_plot(self.plot, self._title() if self.study is not None else None)
