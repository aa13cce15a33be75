"""Live training curves: loss (raw and smoothed), learning rate and momentum, k-NN accuracy against
the run's reference lines (raw pixels, the untrained encoder), feature std against 1/√d, effective
rank, images per second — several runs overlaid, each in its own colour (the strip above the plots
says which is which, so no legend covers a curve).

Events only append to numpy buffers; a timer draws what changed at most 20 times a second, one plot
per tick (all six plots share one canvas, and repainting several at once — their axes are laid out in
Python — held the GUI thread for 50–70 ms at each epoch's end), and a run's very first point is drawn
at once. Every plot item is made once per run and updated with
``setData`` (pyqtgraph's fast path). Whether a run's features have collapsed is decided by
:mod:`labbench.evaluate.collapse`, as on the command line and in the Collapse view.
"""

from __future__ import annotations

import html
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QDockWidget, QVBoxLayout, QWidget

from labbench.engine.events import EpochEvent, ProbeEvent, ReferenceEvent, StepEvent
from labbench.evaluate.collapse import EpochVerdicts
from ui.theme import Theme, current_theme
from ui.widgets.labels import wrapping_label

REDRAW_MS = 50  # 20 Hz: smooth to the eye, negligible cost
EMA_ALPHA = 0.9
#: the k-NN plot's reference lines: record key -> (label, pen style)
REFERENCES = {"raw_pixels_knn": ("raw pixels", Qt.PenStyle.DashLine),
              "untrained_knn": ("untrained", Qt.PenStyle.DotLine)}

# curve key -> the plot it is drawn on
CURVES: dict[str, str] = {
    "loss_raw": "loss",
    "loss": "loss",
    "lr": "lr",
    "momentum": "lr",
    "knn_accuracy": "knn",
    "feature_std": "std",
    "effective_rank": "rank",
    "images_per_sec": "speed",
}

# plot key -> (title, y label, x label); titles say what each line style means, in place of a legend
PLOTS: dict[str, tuple[str, str, str]] = {
    "loss": ("Loss (faint: raw)", "loss", "step"),
    "lr": ("Learning rate · momentum (dashed)", "learning rate", "step"),
    "knn": ("k-NN accuracy", "accuracy", "epoch"),
    "std": ("Feature std (dashed: 1/√d)", "std", "epoch"),
    "rank": ("Effective rank", "rank", "epoch"),
    "speed": ("Throughput", "images/s", "step"),
}


class EpochAxis(pg.AxisItem):
    """An axis of whole epochs: no 1.5-epoch ticks, and no "(x0.001)" scale on a run of one epoch."""

    def __init__(self, orientation: str, **kwargs) -> None:
        super().__init__(orientation, **kwargs)
        self.enableAutoSIPrefix(False)

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
    reference: dict[str, float] = field(default_factory=dict)  # the k-NN lines a learned encoder must clear
    verdicts: EpochVerdicts = field(default_factory=EpochVerdicts)


class TrainingPlots(QDockWidget):
    """The live plots; runs are added by key (the run folder) and can be hidden for comparison."""

    verdict_changed = Signal(str, object)  # run key, its latest epoch's collapse Verdict

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Training plots", parent)
        self.setObjectName("training_plots")
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(2, 2, 2, 2)
        self.key = wrapping_label(rich=True)  # which colour is which run
        self.key.setToolTip("Each run is drawn in its own colour; tick runs in the Runs panel to compare them")
        layout.addWidget(self.key)
        self.canvas = pg.GraphicsLayoutWidget()
        layout.addWidget(self.canvas, 1)
        self.setWidget(body)
        # The hint and the collapse warning float over the plots instead of taking rows above them:
        # showing or hiding one then repaints its own rectangle, not six plots laid out again (each
        # re-layout held the GUI thread 50–130 ms on 2 cores, traced with gui_latency --trace).
        self.hint = self._overlay("No curves yet: press Start (Ctrl+R) to train, or tick past runs in the Runs "
                                  "panel to compare them.", "muted")
        self.warning = self._overlay("", "warning")
        self.warning.hide()
        self.canvas.installEventFilter(self)

        self.plots: dict[str, pg.PlotItem] = {}
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
        self.plots["knn"].setYRange(0.0, 1.0, padding=0.02)  # an accuracy: the whole scale, always
        self.plots["knn"].enableAutoRange(y=False)
        self._momentum_view = self._add_right_axis(self.plots["lr"], "momentum")
        self._std_lines: list[pg.InfiniteLine] = []
        self._knn_lines: list[pg.InfiniteLine] = []
        self._shown_signature: tuple[int, ...] = ()
        self.runs: dict[str, RunCurves] = {}
        self.live_key: str | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self._redraw_next_plot)
        self._next_plot = 0  # where the timer's round of the plots goes on
        self._timer.start()
        self.restyle()

    def _overlay(self, text: str, role: str):
        label = wrapping_label(text, role=role)
        label.setParent(self.canvas)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setAutoFillBackground(True)
        label.setContentsMargins(8, 6, 8, 6)
        return label

    def _place_overlays(self) -> None:
        """The hint over the middle of the top row's plots, the warning as a banner along the top."""
        width = max(self.canvas.width() - 24, 1)
        hint, warning = self.hint.heightForWidth(width), self.warning.heightForWidth(width)
        self.hint.setGeometry(12, self.canvas.height() // 4 - hint // 2, width, hint)
        self.warning.setGeometry(12, 2, width, warning)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if watched is self.canvas and event.type() == QEvent.Type.Resize:
            self._place_overlays()
        return super().eventFilter(watched, event)

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
        for curve, plot_key in CURVES.items():
            item = pg.PlotDataItem()
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
        self._style_run(run, current_theme())
        self.runs[key] = run
        self._sync_shown()
        return run

    def remove_run(self, key: str) -> None:
        run = self.runs.pop(key, None)
        if run is None:
            return
        for curve, item in run.items.items():
            (self._momentum_view if curve == "momentum" else self.plots[CURVES[curve]]).removeItem(item)
        if self.live_key == key:
            self.live_key = None
        self._sync_shown()
        self._update_reference_lines()
        self._update_warning()

    def set_run_visible(self, key: str, visible: bool) -> None:
        run = self.runs.get(key)
        if run is None:
            return
        run.visible = visible
        for curve, item in run.items.items():
            item.setVisible(visible and run.buffers[curve].n > 0)
        self._sync_shown()
        self._update_reference_lines()
        self._update_warning()

    def begin_live_run(self, key: str, label: str, records: list[dict[str, Any]] = ()) -> None:
        """The run now training (``records``: what a resumed run logged before); later events go to it."""
        self.load_records(key, label, records)
        self.live_key = key

    def load_records(self, key: str, label: str, records: list[dict[str, Any]]) -> RunCurves:
        """A past run from its ``metrics.jsonl`` records."""
        run = self.add_run(key, label)
        for record in records:
            self._add_record(run, record)
        self.redraw()
        self._update_reference_lines()
        self._update_warning()
        return run

    def point_count(self, curve: str, key: str | None = None) -> int:
        """Points drawn on screen for ``curve`` of run ``key`` (default: the live run)."""
        run = self.runs.get(key or self.live_key or "")
        if run is None:
            return 0
        x, _ = run.items[curve].getData()
        return 0 if x is None else len(x)

    def verdict(self, key: str | None = None):
        """The collapse verdict on run ``key``'s latest epoch (default: the live run), or None."""
        run = self.runs.get(key or self.live_key or "")
        return None if run is None else run.verdicts.current

    # -- events ----------------------------------------------------------------------------
    @Slot(object)
    def on_step(self, event: StepEvent) -> None:
        run = self.runs.get(self.live_key or "")
        if run is not None:
            first = run.buffers["loss_raw"].n == 0
            self._add_record(run, asdict(event))
            if first:  # the run's first point is drawn now, not at the next tick
                self._flush("loss")

    @Slot(object)
    def on_epoch(self, event: EpochEvent) -> None:
        self._on_live_event(event)

    @Slot(object)
    def on_reference(self, event: ReferenceEvent) -> None:
        self._on_live_event(event)

    @Slot(object)
    def on_probe(self, event: ProbeEvent) -> None:
        self._on_live_event(event)

    def _on_live_event(self, event) -> None:
        run = self.runs.get(self.live_key or "")
        if run is not None:
            self._add_record(run, asdict(event))

    def _add_record(self, run: RunCurves, r: dict[str, Any]) -> None:
        """One ``metrics.jsonl`` record (or an event as one) of ``run``."""
        kind = r.get("kind")
        if kind == "step":
            self._add_step(run, r)
        elif kind == "epoch":
            self._add_epoch(run, r)
        elif kind == "reference":
            run.reference = {k: float(r[k]) for k in REFERENCES if isinstance(r.get(k), (int, float))}
            self._update_reference_lines()
        if kind in ("epoch", "probe") and (found := run.verdicts.add(r)) is not None:
            self._update_warning()
            self.verdict_changed.emit(run.key, found)

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
        """Push every changed buffer to its plot item now."""
        for plot in PLOTS:
            self._flush(plot)

    @Slot()
    def _redraw_next_plot(self) -> None:
        """The timer's tick: draw the changes of the next plot that has any, so that a repaint covers one plot."""
        order = list(PLOTS)
        for i in range(len(order)):
            plot = order[(self._next_plot + i) % len(order)]
            if self._flush(plot):
                self._next_plot = (self._next_plot + i + 1) % len(order)
                return

    def _flush(self, plot: str) -> bool:
        """Push the changed buffers of every run's curves on ``plot``; False when nothing had changed."""
        changed = False
        for run in self.runs.values():
            for curve in [c for c in run.dirty if CURVES[c] == plot]:
                x, y = run.buffers[curve].data()
                item = run.items[curve]
                item.setData(x, y)
                item.setVisible(run.visible)
                run.dirty.discard(curve)
                changed = True
        if changed:
            self._sync_shown()
        return changed

    def _update_reference_lines(self) -> None:
        """1/√d on the std plot (once per d); each visible run's raw-pixel and untrained k-NN on the k-NN plot."""
        for plot, lines in ((self.plots["std"], self._std_lines), (self.plots["knn"], self._knn_lines)):
            for line in lines:
                plot.removeItem(line)
            lines.clear()
        theme = current_theme()
        for d in sorted({r.feature_dim for r in self.runs.values() if r.feature_dim and r.visible}):
            self._std_lines.append(self._line(self.plots["std"], 1 / math.sqrt(d), f"1/√{d}",
                                              theme.plot_foreground, Qt.PenStyle.DashLine))
        for run in self.runs.values():
            if not run.visible:
                continue
            colour = theme.curves[run.colour_index % len(theme.curves)]
            top = max(run.reference.values(), default=None)
            for key, value in run.reference.items():
                name, style = REFERENCES[key]
                # the upper line's label above it, the others below theirs: close lines keep apart labels
                self._knn_lines.append(self._line(self.plots["knn"], value, f"{name} {value:.0%}", colour, style,
                                                  above=value == top and len(run.reference) > 1))

    @staticmethod
    def _line(plot: pg.PlotItem, y: float, label: str, colour: str, style: Qt.PenStyle,
              above: bool = False) -> pg.InfiniteLine:
        anchor = (0, 1) if above else (0, 0)  # the text's bottom-left, or its top-left, on the line
        line = pg.InfiniteLine(pos=y, angle=0, pen=pg.mkPen(colour, width=1, style=style), label=label,
                               labelOpts={"position": 0.02, "color": colour, "anchors": [anchor, anchor]})
        plot.addItem(line)
        return line

    def _update_warning(self) -> None:
        messages = []
        for run in self.runs.values():
            found = run.verdicts.current
            if run.visible and found is not None and found.collapsed:
                messages.append(f"⚠ {run.label}, epoch {run.verdicts.epoch}: {found.words}; {found.advice}.")
        self.warning.setText("\n".join(messages))
        self._place_overlays()
        self.warning.setVisible(bool(messages))

    def warning_for(self, key: str) -> str:
        """The collapse line shown for run ``key`` ('' when it looks healthy)."""
        run = self.runs.get(key)
        found = None if run is None else run.verdicts.current
        return found.words if found is not None and found.collapsed else ""

    def _sync_shown(self, force: bool = False) -> None:
        """The colour key lists the visible runs that have curves; the momentum axis shows with its data.
        Redone only when the set of drawn curves changes."""
        shown = [(run, curve) for run in self.runs.values() for curve in run.items
                 if run.visible and run.buffers[curve].n > 0]
        signature = tuple(id(run.items[curve]) for run, curve in shown)
        if signature == self._shown_signature and not force:
            return
        self._shown_signature = signature
        self.hint.setVisible(not signature)
        theme = current_theme()
        runs = list({run.key: run for run, _ in shown}.values())
        self.key.setText(" &nbsp; ".join(
            f"<span style='color:{theme.curves[r.colour_index % len(theme.curves)]}'>■</span> {html.escape(r.label)}"
            for r in runs))
        self.key.setVisible(len(runs) > 1)  # one run needs no key
        has_momentum = any(curve == "momentum" for _, curve in shown)
        self.plots["lr"].showAxis("right", has_momentum)
        title = PLOTS["lr"][0] if has_momentum else "Learning rate"
        self.plots["lr"].setTitle(title, color=theme.plot_foreground, size="10pt")

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
        for run in self.runs.values():
            self._style_run(run, theme)
        self._update_reference_lines()
        self._sync_shown(force=True)
