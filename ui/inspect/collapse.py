"""The collapse dashboard: has the representation stayed spread out, epoch by epoch — and if not, how did it fall?

Curves come from the run's ``metrics.jsonl`` (:func:`labbench.evaluate.collapse.collapse_history`), one
value per epoch and signal — std and effective rank are the epoch monitors' (the numbers the
training plots and the log show): std of the L2-normalised embeddings against 1/√d (SimSiam, Chen &
He 2021, §4.1), effective rank (RankMe, Garrido et al. 2023), alignment and uniformity (Wang &
Isola 2020), and for DINO the teacher's entropy against log K and the centre's norm (Caron et al.
2021). The verdict in words is :mod:`labbench.evaluate.collapse`'s on the scrubbed epoch's numbers;
that epoch's probe file gives the histograms of positive-pair and negative-pair cosine similarities.
Plot titles name their curves in the curves' colours, so no legend covers them.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QWidget

from labbench.evaluate.collapse import CollapseHistory, collapse_history
from labbench.evaluate.probes import list_probes, read_probes
from ui.docks.training_plots import EpochAxis
from ui.inspect.plot_style import style_canvas, style_plot
from ui.inspect.probe_viewer import ProbeViewer
from ui.theme import current_theme
from ui.widgets.labels import wrapping_label

HIST_BINS = 40
#: plot key -> title, y label; then the curves on it: (series key, its name, dashed). A plot of several
#: curves is titled by their names in their colours; titles stay short, since each sets its column's width.
PLOTS: dict[str, tuple[str, str, tuple[tuple[str, str, bool], ...]]] = {
    "std": ("", "embedding std", (("feature_std", "std", False), ("reference_std", "1/√d", True))),
    "rank": ("Effective rank", "rank", (("effective_rank", "", False),)),
    "geometry": ("↓", "", (("alignment", "alignment", False), ("uniformity", "uniformity", False))),
    "entropy": ("", "teacher entropy (nats)", (("teacher_entropy", "entropy", False), ("max_entropy", "log K", True))),
    "center": ("Centre norm ‖c‖", "", (("center_norm", "", False),)),
}
PLACES = {"std": (0, 0), "rank": (0, 1), "geometry": (0, 2), "entropy": (1, 1), "center": (1, 2)}
TEACHER_PLOTS = ("entropy", "center")
NO_TEACHER = "no centred teacher\nin this run (DINO only)"


@dataclass
class EpochProbe:
    """What the dashboard takes from one probe file: the pair similarities behind its histograms."""

    positive: np.ndarray
    negative: np.ndarray


def epoch_probe(path: str | Path) -> EpochProbe:
    arrays = read_probes(path)
    return EpochProbe(arrays.get("positive_similarities", np.empty(0)).astype(np.float32),
                      arrays.get("negative_similarities", np.empty(0)).astype(np.float32))


def coloured_title(title: str, names: list[tuple[str, str]]) -> str:
    """The curves' names, each in its colour, then ``title``: the plot's legend, outside the plot."""
    spans = [f"<span style='color:{colour}'>{html.escape(name)}</span>" for name, colour in names if name]
    return "&nbsp;&nbsp;".join([*spans, html.escape(title)] if title else spans)


class CollapseDashboard(ProbeViewer):
    """Collapse signals of a run over its epochs, with the scrubbed epoch's similarities and verdict."""

    reading = "reading epoch {epoch}"
    read_probe = staticmethod(epoch_probe)

    def __init__(self, parent: QWidget | None = None) -> None:
        self.history: CollapseHistory | None = None
        self.probe: EpochProbe | None = None
        self.collapsed: bool | None = None
        super().__init__(parent)

        self.verdict = wrapping_label(rich=True)
        self.canvas = pg.GraphicsLayoutWidget()
        self.plots: dict[str, pg.PlotItem] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.markers: list[pg.InfiniteLine] = []
        for key, (_title, ylabel, curves) in PLOTS.items():
            plot = self.canvas.addPlot(*PLACES[key], axisItems={"bottom": EpochAxis("bottom")})
            plot.setLabel("bottom", "epoch")
            plot.getAxis("left").enableAutoSIPrefix(False)
            if ylabel:
                plot.setLabel("left", ylabel)
            for series, _name, _dashed in curves:
                item = plot.plot()
                item.setSymbol("o")
                item.setSymbolSize(5)
                self.curves[series] = item
            marker = pg.InfiniteLine(angle=90, movable=False)
            plot.addItem(marker)
            self.markers.append(marker)
            self.plots[key] = plot
        self.teacher_notes = [pg.TextItem(NO_TEACHER, anchor=(0.5, 0.5)) for _ in TEACHER_PLOTS]
        for note, key in zip(self.teacher_notes, TEACHER_PLOTS, strict=True):
            self.plots[key].addItem(note)
        self.hist_plot = self.canvas.addPlot(1, 0)
        self.hist_plot.setLabel("bottom", "cosine similarity")
        self.hist_plot.setLabel("left", "density")
        self.hist_plot.setXRange(-1, 1, padding=0.02)
        self.pos_hist = self.hist_plot.plot(stepMode="center", fillLevel=0)
        self.neg_hist = self.hist_plot.plot(stepMode="center", fillLevel=0)

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
        self.set_probe_epochs(epochs, "No probe files yet: the histograms come from the probe file "
                                      "written at the end of each epoch.")
        if not epochs and len(self.history.epochs):
            self._show_verdict(int(self.history.epochs[-1]))

    @Slot(int)
    def show_epoch(self, epoch: int) -> None:
        """Histograms (the probe file, read once) and verdict of ``epoch``."""
        for marker in self.markers:
            marker.setValue(epoch)
        self._show_verdict(epoch)
        super().show_epoch(epoch)

    # -- drawing ---------------------------------------------------------------------------
    def _draw_history(self) -> None:
        h = self.history
        for _title, _ylabel, curves in PLOTS.values():
            for series, _name, dashed in curves:
                values = h.series.get(series)
                finite = values[np.isfinite(values)] if values is not None else np.empty(0)
                if not len(finite):
                    self.curves[series].setData([], [])
                elif dashed:  # a reference level (1/√d, log K): a line across every epoch, even the first alone
                    self.curves[series].setData([h.epochs[0] - 0.5, h.epochs[-1] + 0.5], [finite[-1]] * 2)
                else:
                    self.curves[series].setData(h.epochs, values, connect="finite")
        has_teacher = "teacher_entropy" in h.series
        for note, key in zip(self.teacher_notes, TEACHER_PLOTS, strict=True):
            plot = self.plots[key]
            note.setVisible(not has_teacher)
            for side in ("left", "bottom"):
                plot.showAxis(side, has_teacher)
            if has_teacher:
                plot.enableAutoRange()  # a non-DINO run shown before fixed the range to the note's
            else:
                plot.setRange(xRange=(0, 1), yRange=(0, 1))
                note.setPos(0.5, 0.5)

    def show_probe(self, epoch: int, probe: EpochProbe) -> None:
        self.probe = probe
        edges = np.linspace(-1.0, 1.0, HIST_BINS + 1)
        for item, values in ((self.pos_hist, probe.positive), (self.neg_hist, probe.negative)):
            if len(values):
                item.setData(edges, np.histogram(np.clip(values, -1, 1), edges, density=True)[0])
            else:
                item.setData(edges, np.zeros(HIST_BINS))

    def _show_verdict(self, epoch: int) -> None:
        """The epoch's verdict, from the same numbers the curves show at that epoch."""
        found = self.history.verdict(epoch) if self.history is not None else None
        if found is None:
            self.collapsed = None
            self.verdict.setText(f"Epoch {epoch}: no collapse signals recorded for this epoch.")
            return
        self.collapsed = found.collapsed
        colour = current_theme().error if found.collapsed else current_theme().curves[2]
        m = self.history.at(epoch)
        advice = f" What to do: {found.advice}." if found.advice else ""
        pairs = " · ".join(f"{name} {m[key]:.{digits}f}" for name, key, digits in (
            ("positive pairs: mean cosine", "positive_similarity", 2), ("negative pairs", "negative_similarity", 2),
            ("alignment", "alignment", 3), ("uniformity", "uniformity", 3)) if key in m)
        self.verdict.setText(f"<b>Epoch {epoch}: <span style='color:{colour}'>{found.headline}</span></b> — "
                             f"{found.detail}.{advice}" + (f"<br>{pairs}" if pairs else ""))

    def restyle(self) -> None:
        theme = current_theme()
        style_canvas(self.canvas)
        for key, (title, _ylabel, curves) in PLOTS.items():
            names = []
            for i, (series, name, dashed) in enumerate(curves):
                colour = theme.plot_foreground if dashed else theme.curves[i]
                style = Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine
                self.curves[series].setPen(pg.mkPen(colour, width=2, style=style))
                self.curves[series].setSymbolBrush(colour)
                self.curves[series].setSymbolPen(colour)
                if dashed:
                    self.curves[series].setSymbol(None)
                names.append((f"- - {name}" if dashed else name, colour))  # a dash for the dashed line
            style_plot(self.plots[key], coloured_title(title, names if len(curves) > 1 else []))
        style_plot(self.hist_plot, coloured_title("pairs", [("positive", theme.curves[2]),
                                                            ("negative", theme.curves[3])]))
        self.pos_hist.setPen(pg.mkPen(theme.curves[2], width=2))
        self.pos_hist.setBrush(pg.mkBrush(theme.curves[2] + "60"))
        self.neg_hist.setPen(pg.mkPen(theme.curves[3], width=2))
        self.neg_hist.setBrush(pg.mkBrush(theme.curves[3] + "60"))
        for marker in self.markers:
            marker.setPen(pg.mkPen(theme.muted, width=1, style=Qt.PenStyle.DotLine))
        for note in self.teacher_notes:
            note.setColor(theme.muted)
