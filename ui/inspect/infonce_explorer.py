"""The InfoNCE loss explorer: an anchor, its positive and a few negatives on the unit circle, dragged by hand.

Similarities are cosines on the circle; the loss shown is
:func:`labbench.losses.info_nce_from_similarities` on exactly those numbers (van den Oord et al.
2018), with the softmax over ``[s⁺, s⁻₁ … s⁻ₖ] / τ`` beside it. Drag a negative next to the anchor
(a hard negative) and watch the loss and its share of the softmax jump; lower τ and the hardest
negative takes over. It opens on the lecture's example: s⁺ = 0.9, s⁻ = 0.3, 0.1, −0.2, τ = 0.1.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
import torch
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QSpinBox, QVBoxLayout, QWidget

from labbench.losses import info_nce_from_similarities
from ui.inspect.plot_style import ThemedWidget, style_canvas, style_plot
from ui.theme import current_theme
from ui.widgets.labels import wrapping_label

MAX_NEGATIVES = 12
TAU_RANGE = (0.01, 2.0)
TAU_STEPS = 200
#: the lecture's example, as angles from the anchor (cos⁻¹ of the similarities)
LECTURE_SIMILARITIES = (0.9, 0.3, 0.1, -0.2)
LECTURE_TAU = 0.1


def unit(angle: float) -> np.ndarray:
    return np.array([math.cos(angle), math.sin(angle)])


class InfoNCEExplorer(ThemedWidget):
    """Anchor, positive and negatives as draggable targets on the unit circle; the live loss and softmax."""

    changed = Signal(float)  # the loss, after any point, τ or count change

    def __init__(self, parent: QWidget | None = None, seed: int = 0) -> None:
        super().__init__(parent)
        self._rng = np.random.default_rng(seed)
        # row 0 anchor, row 1 positive, rows 2… the negatives (all MAX_NEGATIVES, the first k in use)
        self._points = np.stack([unit(a) for a in self._random_angles(MAX_NEGATIVES + 2)])
        self._count = 0
        self._tau = LECTURE_TAU
        self._syncing = False

        self.canvas = pg.GraphicsLayoutWidget()
        self.circle_plot = self.canvas.addPlot(row=0, col=0)
        self.circle_plot.setAspectLocked(True)
        self.circle_plot.setRange(xRange=(-1.35, 1.35), yRange=(-1.35, 1.35), padding=0)
        self.circle_plot.setMouseEnabled(x=False, y=False)
        self.circle_plot.hideButtons()
        theta = np.linspace(0, 2 * np.pi, 241)
        self.circle = self.circle_plot.plot(np.cos(theta), np.sin(theta))
        self.spokes = self.circle_plot.plot(connect="pairs")
        labels = ["anchor", "positive", *(f"n{i + 1}" for i in range(MAX_NEGATIVES))]
        self.targets: list[pg.TargetItem] = []
        for i, label in enumerate(labels):
            target = pg.TargetItem(pos=self._points[i], size=14 if i < 2 else 11, symbol="o", label=label,
                                   labelOpts={"offset": (8, -8)})
            target.sigPositionChanged.connect(lambda t, i=i: self._dragged(i, t))
            self.circle_plot.addItem(target)
            self.targets.append(target)

        self.prob_plot = self.canvas.addPlot(row=0, col=1)
        self.prob_plot.setYRange(0, 1, padding=0.02)
        self.prob_plot.setMouseEnabled(x=False, y=False)
        self.prob_plot.hideButtons()
        self.prob_plot.setLabel("left", "softmax probability")
        self.bars = pg.BarGraphItem(x=[0], height=[0], width=0.7)
        self.prob_plot.addItem(self.bars)
        self.canvas.ci.layout.setColumnStretchFactor(0, 3)
        self.canvas.ci.layout.setColumnStretchFactor(1, 2)

        self.readout = wrapping_label(rich=True)

        self.tau_slider = QSlider(Qt.Orientation.Horizontal)
        self.tau_slider.setRange(0, TAU_STEPS)
        self.tau_slider.setToolTip("Temperature τ (log scale): small τ sharpens the softmax onto the hardest negatives")
        self.tau_label = QLabel()
        self.tau_label.setMinimumWidth(64)
        self.count_spin = QSpinBox()
        self.count_spin.setRange(1, MAX_NEGATIVES)
        self.count_spin.setPrefix("negatives: ")
        self.count_spin.setToolTip("How many negatives compete with the positive (K); chance level is log(K+1)")
        self.shuffle_button = QPushButton("Scatter negatives")
        self.shuffle_button.setToolTip("Put the negatives at new random places on the circle")
        self.lecture_button = QPushButton("Lecture example")
        self.lecture_button.setToolTip("s⁺ = 0.9, s⁻ = 0.3, 0.1, −0.2, τ = 0.1 (loss 0.0028)")

        controls = QHBoxLayout()
        controls.addWidget(QLabel("τ"))
        controls.addWidget(self.tau_slider, 1)
        controls.addWidget(self.tau_label)
        controls.addWidget(self.count_spin)
        controls.addWidget(self.shuffle_button)
        controls.addWidget(self.lecture_button)
        hint = QLabel("Drag the anchor, the positive or any negative along the circle.")
        hint.setProperty("role", "muted")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.readout)
        layout.addLayout(controls)
        layout.addWidget(hint)

        self.tau_slider.valueChanged.connect(self._tau_moved)
        self.count_spin.valueChanged.connect(self.set_negative_count)
        self.shuffle_button.clicked.connect(self.scatter_negatives)
        self.lecture_button.clicked.connect(self.show_lecture_example)
        self.restyle()
        self.show_lecture_example()

    # -- the numbers -----------------------------------------------------------------------
    @property
    def temperature(self) -> float:
        return self._tau

    @property
    def negative_count(self) -> int:
        return self._count

    def points(self) -> np.ndarray:
        """Unit vectors in use: anchor, positive, then the k negatives ((k+2)×2)."""
        return self._points[: self._count + 2].copy()

    def similarities(self) -> tuple[float, np.ndarray]:
        """(s⁺, s⁻ of each negative): cosines with the anchor."""
        p = self.points()
        sims = p[1:] @ p[0]
        return float(sims[0]), sims[1:]

    def _logits(self) -> tuple[torch.Tensor, torch.Tensor]:
        pos, negs = self.similarities()
        return torch.tensor(pos, dtype=torch.float64), torch.from_numpy(negs)

    def loss(self) -> float:
        """The InfoNCE loss of the current picture, from the engine's own function."""
        pos, negs = self._logits()
        return float(info_nce_from_similarities(pos, negs, self._tau))

    def mutual_information_bound(self) -> float:
        """InfoNCE's lower bound on the mutual information, I ≥ log(K+1) − L (van den Oord et al. 2018, §2.3);
        never below 0, which a mutual information cannot be."""
        return max(0.0, math.log(self._count + 1) - self.loss())

    def _bound_text(self, loss: float) -> str:
        chance = math.log(self._count + 1)
        if loss <= chance:
            return f"bound on mutual information: I ≥ log(K+1) − L = {chance - loss:.3f} nats"
        return ("bound on mutual information: I ≥ 0 — the loss is above chance level, so log(K+1) − L "
                "says nothing here")

    def probabilities(self) -> np.ndarray:
        """Softmax over the positive then each negative (k+1 values summing to 1)."""
        pos, negs = self._logits()
        return torch.softmax(torch.cat([pos[None], negs]) / self._tau, dim=0).numpy()

    # -- changing the picture --------------------------------------------------------------
    def set_temperature(self, tau: float) -> None:
        """τ, clamped to the slider's range; the slider follows."""
        lo, hi = TAU_RANGE
        self._tau = float(min(max(tau, lo), hi))
        self.tau_slider.blockSignals(True)
        self.tau_slider.setValue(round(TAU_STEPS * math.log(self._tau / lo) / math.log(hi / lo)))
        self.tau_slider.blockSignals(False)
        self.tau_label.setText(f"{self._tau:.3g}")
        self._update()

    @Slot(int)
    def set_negative_count(self, count: int) -> None:
        self._count = int(min(max(count, 1), MAX_NEGATIVES))
        self.count_spin.blockSignals(True)
        self.count_spin.setValue(self._count)
        self.count_spin.blockSignals(False)
        for i, target in enumerate(self.targets):
            target.setVisible(i < self._count + 2)
        self._update()

    def set_point(self, index: int, xy) -> None:
        """Move point ``index`` (0 anchor, 1 positive, 2… negatives) to ``xy`` projected onto the circle."""
        v = np.asarray(xy, dtype=np.float64)
        norm = float(np.hypot(*v))
        self._points[index] = v / norm if norm > 1e-9 else self._points[index]
        self._syncing = True
        self.targets[index].setPos(*self._points[index])
        self._syncing = False
        self._update()

    def set_angles(self, anchor: float, positive: float, negatives) -> None:
        """Place every point by its angle in radians."""
        negatives = list(negatives)
        self._points[0], self._points[1] = unit(anchor), unit(positive)
        for i, a in enumerate(negatives):
            self._points[2 + i] = unit(a)
        self._place_targets()
        self.set_negative_count(len(negatives))

    @Slot()
    def scatter_negatives(self) -> None:
        self._points[2:] = np.stack([unit(a) for a in self._random_angles(MAX_NEGATIVES)])
        self._place_targets()
        self._update()

    @Slot()
    def show_lecture_example(self) -> None:
        pos, *negs = LECTURE_SIMILARITIES
        # alternate sides so the negatives do not sit on top of each other
        self.set_angles(0.0, math.acos(pos), [(-1) ** i * math.acos(s) for i, s in enumerate(negs)])
        self.set_temperature(LECTURE_TAU)

    def _random_angles(self, n: int) -> np.ndarray:
        return self._rng.uniform(-math.pi, math.pi, n)

    def _place_targets(self) -> None:
        self._syncing = True
        for target, p in zip(self.targets, self._points):
            target.setPos(*p)
        self._syncing = False

    def _dragged(self, index: int, target: pg.TargetItem) -> None:
        if self._syncing:
            return
        pos = target.pos()
        self.set_point(index, (pos.x(), pos.y()))  # snaps the target back onto the circle

    @Slot(int)
    def _tau_moved(self, value: int) -> None:
        lo, hi = TAU_RANGE
        self.set_temperature(lo * (hi / lo) ** (value / TAU_STEPS))

    # -- drawing ---------------------------------------------------------------------------
    def _update(self) -> None:
        if self._count == 0:
            return
        p = self.points()
        spokes = np.zeros((2 * len(p), 2))
        spokes[1::2] = p
        self.spokes.setData(spokes[:, 0], spokes[:, 1], connect="pairs")
        probs = self.probabilities()
        theme = current_theme()
        brushes = [theme.curves[2]] + [theme.curves[3]] * self._count
        self.bars.setOpts(x=np.arange(len(probs)), height=probs, brushes=brushes, pens=[pg.mkPen(None)] * len(probs))
        ticks = [(0, "pos"), *((i + 1, f"n{i + 1}") for i in range(self._count))]
        self.prob_plot.getAxis("bottom").setTicks([ticks])
        self.prob_plot.setXRange(-0.6, self._count + 0.6, padding=0)

        pos, negs = self.similarities()
        loss = self.loss()
        k = self._count
        neg_text = ", ".join(f"{s:+.2f}" for s in negs)
        hardest = int(np.argmax(negs))
        self.readout.setText(
            f"s⁺ = {pos:+.2f} &nbsp; s⁻ = {neg_text} &nbsp; τ = {self._tau:.3g}<br>"
            f"<b>L = −log e<sup>s⁺/τ</sup> / (e<sup>s⁺/τ</sup> + Σ e<sup>s⁻/τ</sup>) = {loss:.4f}</b>"
            f" &nbsp; p(positive) = {probs[0]:.3f}"
            f" &nbsp; hardest negative n{hardest + 1}: p = {probs[hardest + 1]:.3f}<br>"
            f"chance level log(K+1) = {math.log(k + 1):.3f} &nbsp; {self._bound_text(loss)}"
        )
        self.changed.emit(loss)

    def restyle(self) -> None:
        theme = current_theme()
        style_canvas(self.canvas)
        style_plot(self.circle_plot, "Unit circle (cosine similarity to the anchor)")
        style_plot(self.prob_plot, "Softmax over [s⁺, s⁻] / τ")
        self.circle.setPen(pg.mkPen(theme.muted, width=1))
        self.spokes.setPen(pg.mkPen(theme.muted, width=1, style=Qt.PenStyle.DotLine))
        colours = [theme.highlight, theme.curves[2]] + [theme.curves[3]] * MAX_NEGATIVES
        for target, colour in zip(self.targets, colours):
            target.setPen(pg.mkPen(colour, width=2))
            target.setBrush(pg.mkBrush(colour))
            target.setHoverBrush(pg.mkBrush(theme.text))
            target.label().setColor(theme.plot_foreground)
        self._update()
