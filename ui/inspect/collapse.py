"""The collapse dashboard: has the representation stayed spread out, epoch by epoch — and if not, how did it fall?

Curves come from the run's ``metrics.jsonl`` (:func:`labbench.evaluate.collapse.collapse_history`):
std of the L2-normalised embeddings against 1/√d (SimSiam, Chen & He 2021, §4.1), effective rank
(RankMe, Garrido et al. 2023), alignment and uniformity (Wang & Isola 2020), and for DINO the
teacher's entropy against log K and the centre's norm (Caron et al. 2021). The scrubbed epoch's
probe file gives the histograms of positive-pair and negative-pair cosine similarities and the
verdict in plain words.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QLabel, QWidget

from labbench.evaluate.collapse import CollapseHistory, collapse_history, verdict_from_metrics
from labbench.evaluate.probes import list_probes, read_probes
from ui.docks.training_plots import EpochAxis
from ui.inspect.plot_style import style_canvas, style_plot
from ui.inspect.probe_viewer import ProbeViewer
from ui.theme import current_theme

HIST_BINS = 40
#: plot key -> title, y label; then the curves on it: (series key, legend name, dashed)
PLOTS: dict[str, tuple[str, str, tuple[tuple[str, str, bool], ...]]] = {
    "std": ("Embedding std (dashed: 1/√d)", "std", (("feature_std", "std", False), ("reference_std", "1/√d", True))),
    "rank": ("Effective rank", "rank", (("effective_rank", "effective rank", False),)),
    "geometry": ("Alignment ↓ and uniformity ↓", "", (("alignment", "alignment", False),
                                                     ("uniformity", "uniformity", False))),
    "entropy": ("DINO teacher entropy (dashed: log K)", "nats", (("teacher_entropy", "entropy", False),
                                                                 ("max_entropy", "log K", True))),
    "center": ("DINO centre norm", "‖c‖", (("center_norm", "centre norm", False),)),
}
NO_TEACHER = "no centred teacher\nin this run (DINO only)"


@dataclass
class EpochProbe:
    """What the dashboard takes from one probe file."""

    metrics: dict[str, float]
    positive: np.ndarray
    negative: np.ndarray


def epoch_probe(path: str | Path) -> EpochProbe:
    arrays = read_probes(path)
    metrics = {k: float(v) for k, v in arrays.items() if v.ndim == 0}
    return EpochProbe(metrics, arrays.get("positive_similarities", np.empty(0)).astype(np.float32),
                      arrays.get("negative_similarities", np.empty(0)).astype(np.float32))


class CollapseDashboard(ProbeViewer):
    """Collapse signals of a run over its epochs, with the scrubbed epoch's similarities and verdict."""

    reading = "reading epoch {epoch}"
    read_probe = staticmethod(epoch_probe)

    def __init__(self, runs_root: str | Path | None, parent: QWidget | None = None) -> None:
        self.history: CollapseHistory | None = None
        self.probe: EpochProbe | None = None
        self.collapsed: bool | None = None
        super().__init__(runs_root, parent=parent)

        self.verdict = QLabel()
        self.verdict.setWordWrap(True)
        self.verdict.setTextFormat(Qt.TextFormat.RichText)
        self.canvas = pg.GraphicsLayoutWidget()
        self.plots: dict[str, pg.PlotItem] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.markers: list[pg.InfiniteLine] = []
        self.legends: dict[str, pg.LegendItem] = {}
        places = {"std": (0, 0), "rank": (0, 1), "geometry": (0, 2), "entropy": (1, 1), "center": (1, 2)}
        for key, (_title, ylabel, curves) in PLOTS.items():
            plot = self.canvas.addPlot(*places[key], axisItems={"bottom": EpochAxis("bottom")})
            plot.setLabel("bottom", "epoch")
            plot.getAxis("left").enableAutoSIPrefix(False)
            if ylabel:
                plot.setLabel("left", ylabel)
            if len(curves) > 1:
                self.legends[key] = plot.addLegend(offset=(-6, 6), labelTextSize="8pt")
            for series, name, _dashed in curves:
                item = plot.plot(name=name)
                item.setSymbol("o")
                item.setSymbolSize(5)
                self.curves[series] = item
            marker = pg.InfiniteLine(angle=90, movable=False)
            plot.addItem(marker)
            self.markers.append(marker)
            self.plots[key] = plot
        self.teacher_notes = [pg.TextItem(NO_TEACHER, anchor=(0.5, 0.5)) for _ in ("entropy", "center")]
        for note, key in zip(self.teacher_notes, ("entropy", "center")):
            self.plots[key].addItem(note)
        self.hist_plot = self.canvas.addPlot(1, 0)
        self.hist_plot.setLabel("bottom", "cosine similarity")
        self.hist_plot.setLabel("left", "density")
        self.hist_plot.setXRange(-1, 1, padding=0.02)
        self.legends["histogram"] = self.hist_plot.addLegend(offset=(6, 6), labelTextSize="8pt")
        self.pos_hist = self.hist_plot.plot(stepMode="center", fillLevel=0, name="positive pairs")
        self.neg_hist = self.hist_plot.plot(stepMode="center", fillLevel=0, name="negative pairs")

        self.body.addWidget(self.verdict)
        self.body.addWidget(self.canvas, 1)
        self.body.addWidget(self.scrubber)
        self.restyle()

    # -- reading ---------------------------------------------------------------------------
    def reload(self) -> None:
        run_dir = self.run_dir
        self.tasks.start("reading the run's collapse signals",
                         lambda progress: (collapse_history(run_dir), [e for e, _ in list_probes(run_dir)]),
                         self._read_history)

    def _read_history(self, result: tuple[CollapseHistory, list[int]]) -> None:
        self.history, epochs = result
        self._draw_history()
        self.set_probe_epochs(epochs, "No probe files yet: the histograms and the verdict come from the probe file "
                                      "written at the end of each epoch.")

    @Slot(int)
    def show_epoch(self, epoch: int) -> None:
        """Histograms and verdict of ``epoch``'s probe file (read once)."""
        for marker in self.markers:
            marker.setValue(epoch)
        super().show_epoch(epoch)

    # -- drawing ---------------------------------------------------------------------------
    def _draw_history(self) -> None:
        h = self.history
        for _title, _ylabel, curves in PLOTS.values():
            for series, _name, _dashed in curves:
                values = h.series.get(series)
                if values is None:
                    self.curves[series].setData([], [])
                else:
                    self.curves[series].setData(h.epochs, values, connect="finite")
        has_teacher = "teacher_entropy" in h.series
        self.legends["entropy"].setVisible(has_teacher)
        for note, key in zip(self.teacher_notes, ("entropy", "center")):
            note.setVisible(not has_teacher)
            for side in ("left", "bottom"):
                self.plots[key].showAxis(side, has_teacher)
            if not has_teacher:
                self.plots[key].setRange(xRange=(0, 1), yRange=(0, 1))
                note.setPos(0.5, 0.5)

    def show_probe(self, epoch: int, probe: EpochProbe) -> None:
        self.probe = probe
        edges = np.linspace(-1.0, 1.0, HIST_BINS + 1)
        for item, values in ((self.pos_hist, probe.positive), (self.neg_hist, probe.negative)):
            if len(values):
                item.setData(edges, np.histogram(np.clip(values, -1, 1), edges, density=True)[0])
            else:
                item.setData(edges, np.zeros(HIST_BINS))
        if "feature_std" not in probe.metrics:
            self.collapsed = None
            self.verdict.setText(f"Epoch {epoch}: no collapse signals in this probe file.")
            return
        self.collapsed, words = verdict_from_metrics(probe.metrics)
        head, _, rest = words.partition(": ")
        colour = current_theme().error if self.collapsed else current_theme().curves[2]
        m = probe.metrics
        self.verdict.setText(
            f"<b>Epoch {epoch}: <span style='color:{colour}'>{head}</span></b> — {rest}<br>"
            f"positive pairs: mean cosine {m.get('positive_similarity', float('nan')):.2f} · negative pairs: "
            f"{m.get('negative_similarity', float('nan')):.2f} · alignment {m.get('alignment', float('nan')):.3f} · "
            f"uniformity {m.get('uniformity', float('nan')):.3f}")

    def restyle(self) -> None:
        theme = current_theme()
        style_canvas(self.canvas)
        for key, (title, _ylabel, curves) in PLOTS.items():
            style_plot(self.plots[key], title)
            for i, (series, _name, dashed) in enumerate(curves):
                colour = theme.plot_foreground if dashed else theme.curves[i]
                style = Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine
                self.curves[series].setPen(pg.mkPen(colour, width=2, style=style))
                self.curves[series].setSymbolBrush(colour)
                self.curves[series].setSymbolPen(colour)
                if dashed:
                    self.curves[series].setSymbol(None)
        style_plot(self.hist_plot, "Cosine similarity of pairs (scrubbed epoch)")
        self.pos_hist.setPen(pg.mkPen(theme.curves[2], width=2))
        self.pos_hist.setBrush(pg.mkBrush(theme.curves[2] + "60"))
        self.neg_hist.setPen(pg.mkPen(theme.curves[3], width=2))
        self.neg_hist.setBrush(pg.mkBrush(theme.curves[3] + "60"))
        for marker in self.markers:
            marker.setPen(pg.mkPen(theme.muted, width=1, style=Qt.PenStyle.DotLine))
        for note in self.teacher_notes:
            note.setColor(theme.muted)
        for legend in self.legends.values():
            legend.setLabelTextColor(theme.plot_foreground)
            legend.setBrush(pg.mkBrush(theme.plot_background + "d0"))
