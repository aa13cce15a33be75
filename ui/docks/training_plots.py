"""Live training curves: loss (raw and smoothed), learning rate and momentum, k-NN accuracy,
feature std against 1/√d, effective rank, images per second — several runs overlaid.

Events only append to numpy buffers; a timer draws what changed at most 20 times a second.
Every plot item is made once per run and updated with ``setData`` (pyqtgraph's fast path).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtWidgets import QDockWidget, QLabel, QVBoxLayout, QWidget

from labbench.engine.events import EpochEvent, StepEvent
from ui.theme import Theme, current_theme

REDRAW_MS = 50  # 20 Hz: smooth to the eye, negligible cost
EMA_ALPHA = 0.9
# Collapse thresholds. L2-normalised features have std ≈ 1/√d when they spread over the sphere
# and → 0 when every image maps to one point (complete collapse); an effective rank near 1 means
# the features span a line (dimensional collapse).
COLLAPSE_STD_SHARE = 0.25
COLLAPSE_RANK = 2.0

# curve key -> (plot key, legend suffix, drawn on the step (x) axis or the epoch axis)
CURVES: dict[str, tuple[str, str, str]] = {
    "loss_raw": ("loss", "raw", "step"),
    "loss": ("loss", "smoothed", "step"),
    "lr": ("lr", "learning rate", "step"),
    "momentum": ("lr", "momentum", "step"),
    "knn_accuracy": ("knn", "", "epoch"),
    "feature_std": ("std", "", "epoch"),
    "effective_rank": ("rank", "", "epoch"),
    "images_per_sec": ("speed", "", "step"),
}

# plot key -> (title, y label, x label)
PLOTS: dict[str, tuple[str, str, str]] = {
    "loss": ("Loss", "loss", "step"),
    "lr": ("Learning rate · momentum", "learning rate", "step"),
    "knn": ("k-NN accuracy", "accuracy", "epoch"),
    "std": ("Feature std (dashed: 1/√d)", "std", "epoch"),
    "rank": ("Effective rank", "rank", "epoch"),
    "speed": ("Throughput", "images/s", "step"),
}


class EpochAxis(pg.AxisItem):
    """An axis of whole epochs: no 1.5-epoch ticks."""

    def tickValues(self, minVal, maxVal, size):  # noqa: N802, N803 (pyqtgraph override)
        levels = []
        for spacing, ticks in super().tickValues(minVal, maxVal, size):
            whole = [t for t in ticks if float(t).is_integer()]
            if spacing >= 1 and whole:
                levels.append((spacing, whole))
        return levels or [(1.0, [float(v) for v in range(math.ceil(minVal), math.floor(maxVal) + 1)])]


class Buffer:
    """A growable pair of float arrays, appended in place (amortised O(1))."""

    def __init__(self, capacity: int = 256) -> None:
        self.x = np.empty(capacity)
        self.y = np.empty(capacity)
        self.n = 0

    def append(self, x: float, y: float) -> None:
        if self.n == len(self.x):
            self.x = np.resize(self.x, 2 * self.n)
            self.y = np.resize(self.y, 2 * self.n)
        self.x[self.n] = x
        self.y[self.n] = y
        self.n += 1

    def data(self) -> tuple[np.ndarray, np.ndarray]:
        return self.x[: self.n], self.y[: self.n]


@dataclass
class RunCurves:
    """One run's buffers and plot items (one per curve, made once)."""

    key: str
    label: str
    colour_index: int
    buffers: dict[str, Buffer] = field(default_factory=lambda: {k: Buffer() for k in CURVES})
    items: dict[str, pg.PlotDataItem] = field(default_factory=dict)
    dirty: set[str] = field(default_factory=set)
    visible: bool = True
    ema: float = 0.0
    ema_steps: int = 0
    feature_dim: int | None = None


class TrainingPlots(QDockWidget):
    """The live plots; runs are added by key (the run folder) and can be hidden for comparison."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Training plots", parent)
        self.setObjectName("training_plots")
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(2, 2, 2, 2)
        self.warning = QLabel()
        self.warning.setProperty("role", "warning")
        self.warning.setWordWrap(True)
        self.warning.hide()
        layout.addWidget(self.warning)
        self.hint = QLabel("No curves yet: press Start (Ctrl+R) to train, or tick past runs in the Runs panel "
                           "to compare them.")
        self.hint.setProperty("role", "muted")
        self.hint.setWordWrap(True)
        layout.addWidget(self.hint)
        self.canvas = pg.GraphicsLayoutWidget()
        layout.addWidget(self.canvas, 1)
        self.setWidget(body)

        self.plots: dict[str, pg.PlotItem] = {}
        self.legends: dict[str, pg.LegendItem] = {}
        for i, (key, (title, ylabel, xlabel)) in enumerate(PLOTS.items()):
            axes = {"bottom": EpochAxis("bottom")} if xlabel == "epoch" else None
            plot = self.canvas.addPlot(row=i // 3, col=i % 3, axisItems=axes)
            plot.setLabel("left", ylabel)
            plot.setLabel("bottom", xlabel)
            for side in ("left", "bottom", "right"):
                plot.getAxis(side).enableAutoSIPrefix(False)  # "accuracy (x0.001)" reads badly
            plot.showGrid(x=True, y=True, alpha=0.2)
            plot.setClipToView(True)
            plot.setDownsampling(auto=True, mode="peak")
            self.plots[key] = plot
            self.legends[key] = plot.addLegend(offset=(-8, 8), labelTextSize="8pt")
        self.plots["knn"].setYRange(0.0, 1.0, padding=0.02)  # an accuracy: the whole scale, always
        self.plots["knn"].enableAutoRange(y=False)
        self._momentum_view = self._add_right_axis(self.plots["lr"], "momentum")
        self._std_lines: list[pg.InfiniteLine] = []
        self._legend_signature: tuple[int, ...] = ()
        self.runs: dict[str, RunCurves] = {}
        self.live_key: str | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self.redraw)
        self._timer.start()
        self.restyle()

    @staticmethod
    def _add_right_axis(plot: pg.PlotItem, label: str) -> pg.ViewBox:
        """A second y axis on the right, sharing x (momentum lives in [0.9, 1], the lr far below)."""
        view = pg.ViewBox()
        plot.showAxis("right")
        plot.scene().addItem(view)
        plot.getAxis("right").linkToView(view)
        plot.getAxis("right").setLabel(label)
        view.setXLink(plot)

        def follow() -> None:
            view.setGeometry(plot.vb.sceneBoundingRect())
            view.linkedViewChanged(plot.vb, view.XAxis)

        plot.vb.sigResized.connect(follow)
        return view

    # -- runs ------------------------------------------------------------------------------
    def add_run(self, key: str, label: str) -> RunCurves:
        """A run to draw (made once; adding the same key again starts it over)."""
        if key in self.runs:
            self.remove_run(key)
        run = RunCurves(key, label, colour_index=self._free_colour())
        theme = current_theme()
        for curve, (plot_key, suffix, _axis) in CURVES.items():
            item = pg.PlotDataItem(name=f"{label} {suffix}".strip() if suffix else label)
            if curve == "momentum":
                self._momentum_view.addItem(item)
            else:
                self.plots[plot_key].addItem(item)
            if curve in ("knn_accuracy", "feature_std", "effective_rank"):
                item.setSymbol("o")
                item.setSymbolSize(5)
            item.setClipToView(True)
            item.setDownsampling(auto=True, method="peak")
            run.items[curve] = item
        self._style_run(run, theme)
        self.runs[key] = run
        self._sync_legends()
        return run

    def remove_run(self, key: str) -> None:
        run = self.runs.pop(key, None)
        if run is None:
            return
        for curve, item in run.items.items():
            (self._momentum_view if curve == "momentum" else self.plots[CURVES[curve][0]]).removeItem(item)
        if self.live_key == key:
            self.live_key = None
        self._sync_legends()
        self._update_reference_lines()

    def set_run_visible(self, key: str, visible: bool) -> None:
        run = self.runs.get(key)
        if run is None:
            return
        run.visible = visible
        for curve, item in run.items.items():
            item.setVisible(visible and run.buffers[curve].n > 0)
        self._sync_legends()
        self._update_warning()

    def begin_live_run(self, key: str, label: str, records: list[dict[str, Any]] = ()) -> None:
        """The run now training (``records``: what a resumed run logged before); later events go to it."""
        self.load_records(key, label, records)
        self.live_key = key
        self._update_warning()

    def load_records(self, key: str, label: str, records: list[dict[str, Any]]) -> RunCurves:
        """A past run from its ``metrics.jsonl`` records."""
        run = self.add_run(key, label)
        for record in records:
            kind = record.get("kind")
            if kind == "step":
                self._add_step(run, record)
            elif kind == "epoch":
                self._add_epoch(run, record)
        self.redraw()
        return run

    def point_count(self, curve: str, key: str | None = None) -> int:
        """Points drawn on screen for ``curve`` of run ``key`` (default: the live run)."""
        run = self.runs.get(key or self.live_key or "")
        if run is None:
            return 0
        x, _ = run.items[curve].getData()
        return 0 if x is None else len(x)

    # -- events ----------------------------------------------------------------------------
    @Slot(object)
    def on_step(self, event: StepEvent) -> None:
        run = self.runs.get(self.live_key or "")
        if run is not None:
            self._add_step(run, event.__dict__)

    @Slot(object)
    def on_epoch(self, event: EpochEvent) -> None:
        run = self.runs.get(self.live_key or "")
        if run is not None:
            self._add_epoch(run, {**event.__dict__, "metrics": event.metrics})
            self._update_warning()

    def _append(self, run: RunCurves, curve: str, x: float, y: float | None) -> None:
        if y is None or not math.isfinite(y):
            return
        run.buffers[curve].append(x, y)
        run.dirty.add(curve)

    def _add_step(self, run: RunCurves, r: dict[str, Any]) -> None:
        step, loss = r["step"], r.get("loss")
        self._append(run, "loss_raw", step, loss)
        if loss is not None and math.isfinite(loss):
            # Debiased EMA (as TensorBoard's smoothing): early points are not pulled towards 0.
            run.ema = EMA_ALPHA * run.ema + (1 - EMA_ALPHA) * loss
            run.ema_steps += 1
            self._append(run, "loss", step, run.ema / (1 - EMA_ALPHA**run.ema_steps))
        self._append(run, "lr", step, r.get("lr"))
        self._append(run, "momentum", step, r.get("momentum"))
        self._append(run, "images_per_sec", step, r.get("images_per_sec"))

    def _add_epoch(self, run: RunCurves, r: dict[str, Any]) -> None:
        epoch = r["epoch"]
        self._append(run, "knn_accuracy", epoch, r.get("knn_accuracy"))
        self._append(run, "feature_std", epoch, r.get("feature_std"))
        self._append(run, "effective_rank", epoch, r.get("effective_rank"))
        dim = (r.get("metrics") or {}).get("feature_dim")
        if dim and dim != run.feature_dim:
            run.feature_dim = int(dim)
            self._update_reference_lines()

    # -- drawing ---------------------------------------------------------------------------
    @Slot()
    def redraw(self) -> None:
        """Push changed buffers to their plot items (called by the timer)."""
        for run in self.runs.values():
            for curve in run.dirty:
                x, y = run.buffers[curve].data()
                item = run.items[curve]
                item.setData(x, y)
                item.setVisible(run.visible)
            if run.dirty:
                run.dirty.clear()
                self._sync_legends()

    def _update_reference_lines(self) -> None:
        plot = self.plots["std"]
        for line in self._std_lines:
            plot.removeItem(line)
        dims = sorted({r.feature_dim for r in self.runs.values() if r.feature_dim})
        theme = current_theme()
        self._std_lines = []
        for d in dims:
            line = pg.InfiniteLine(
                pos=1 / math.sqrt(d), angle=0,
                pen=pg.mkPen(theme.plot_foreground, width=1, style=Qt.PenStyle.DashLine),
                label=f"1/√{d}", labelOpts={"position": 0.05, "color": theme.plot_foreground, "anchors": [(0, 0), (0, 0)]},
            )
            plot.addItem(line)
            self._std_lines.append(line)

    def collapse_message(self, run: RunCurves) -> str:
        """Why the run's features look collapsed at its last epoch, or '' when they look healthy."""
        std, rank = run.buffers["feature_std"], run.buffers["effective_rank"]
        reasons = []
        if std.n and run.feature_dim:
            expected = 1 / math.sqrt(run.feature_dim)
            if std.y[std.n - 1] < COLLAPSE_STD_SHARE * expected:
                reasons.append(f"feature std {std.y[std.n - 1]:.3g} ≪ 1/√d = {expected:.3g}")
        if rank.n and rank.y[rank.n - 1] < COLLAPSE_RANK:
            reasons.append(f"effective rank {rank.y[rank.n - 1]:.2f}")
        if not reasons:
            return ""
        return (f"⚠ Possible representation collapse in {run.label}: {'; '.join(reasons)}. "
                "All images map to (nearly) the same features — try a lower learning rate, "
                "a larger temperature or stronger augmentation.")

    def _update_warning(self) -> None:
        messages = [m for r in self.runs.values() if r.visible and (m := self.collapse_message(r))]
        self.warning.setText("\n".join(messages))
        self.warning.setVisible(bool(messages))

    def _sync_legends(self, force: bool = False) -> None:
        """Legends list only the curves that are drawn and visible; the momentum axis shows with its data.
        Rebuilt only when that set of curves changes (legends are slow to rebuild at 20 Hz)."""
        shown: dict[str, list[pg.PlotDataItem]] = {key: [] for key in PLOTS}
        for run in self.runs.values():
            for curve, item in run.items.items():
                if run.visible and run.buffers[curve].n > 0:
                    shown[CURVES[curve][0]].append(item)
        signature = tuple(id(item) for items in shown.values() for item in items)
        if signature == self._legend_signature and not force:
            return
        self._legend_signature = signature
        self.hint.setVisible(not signature)
        for legend in self.legends.values():
            legend.clear()
        for key, items in shown.items():
            for item in items:
                self.legends[key].addItem(item, item.name())
            self.legends[key].setVisible(len(items) > 1)  # one curve needs no legend
        has_momentum = any(item.name().endswith("momentum") for item in shown["lr"])
        self.plots["lr"].showAxis("right", has_momentum)
        title = PLOTS["lr"][0] if has_momentum else "Learning rate"
        self.plots["lr"].setTitle(title, color=current_theme().plot_foreground, size="10pt")

    def _free_colour(self) -> int:
        used = {r.colour_index for r in self.runs.values()}
        return next(i for i in range(len(used) + 1) if i not in used)

    def _style_run(self, run: RunCurves, theme: Theme) -> None:
        colour = theme.curves[run.colour_index % len(theme.curves)]
        for curve, item in run.items.items():
            if curve == "loss_raw":
                pen = pg.mkPen(colour, width=1)
                item.setOpacity(0.45)
            elif curve == "momentum":
                pen = pg.mkPen(colour, width=2, style=Qt.PenStyle.DashLine)
            else:
                pen = pg.mkPen(colour, width=2)
            item.setPen(pen)
            item.setSymbolBrush(colour)
            item.setSymbolPen(colour)

    @Slot()
    def restyle(self) -> None:
        """Apply the current theme: pyqtgraph does not follow the Qt palette by itself."""
        theme = current_theme()
        self.canvas.setBackground(theme.plot_background)
        fg = theme.plot_foreground
        for key, plot in self.plots.items():
            plot.setTitle(PLOTS[key][0], color=fg, size="10pt")
            for side in ("left", "bottom", "right"):
                axis = plot.getAxis(side)
                axis.setPen(pg.mkPen(fg))
                axis.setTextPen(pg.mkPen(fg))
        for legend in self.legends.values():
            legend.setLabelTextColor(fg)
            legend.setBrush(pg.mkBrush(theme.plot_background + "d0"))
            legend.setPen(pg.mkPen(theme.muted))
        for run in self.runs.values():
            self._style_run(run, theme)
        self._update_reference_lines()
        self._sync_legends(force=True)
