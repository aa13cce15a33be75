"""The 2-D contrastive training simulator: watch clusters form, one real gradient step at a time.

Inputs are points in 8-D drawn around one centre per hidden class; a tiny MLP maps them to 2-D,
and every tick takes real NT-Xent steps (SimCLR's InfoNCE, Chen et al. 2020) with torch autograd on
two augmented views of every point (the input plus Gaussian noise of the chosen strength). The
class is never shown to the model, only to you as colour. Strong augmentation hides which instance
a view came from but not its class, so each class is pulled to one spot on the circle; weak
augmentation lets the model tell instances apart, and they spread round the whole circle.

A tiny MLP rather than free per-point embeddings: free embeddings cannot share anything between
instances, so no class could ever emerge from them.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
import torch
import torch.nn.functional as F
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QSpinBox, QVBoxLayout, QWidget
from torch import nn

from labbench.losses import alignment, nt_xent, uniformity
from ui.inspect.plot_style import ThemedWidget, class_colour, style_canvas, style_plot
from ui.theme import current_theme
from ui.widgets.labels import wrapping_label

INPUT_DIM = 8
HIDDEN = 32
PER_CLASS = 32
CLASS_SPREAD = 0.5     # within-class spread of the inputs
CENTRE_SCALE = 1.5     # spread of the class centres
LEARNING_RATE = 0.01
TICK_MS = 40
STEPS_PER_TICK = 2
#: points are drawn half transparent, so that many on one spot show as a denser colour
POINT_ALPHA = 150


class ContrastiveToy:
    """Class-clustered inputs, a tiny MLP to 2-D, and real NT-Xent gradient steps (no Qt)."""

    def __init__(self, classes: int = 4, per_class: int = PER_CLASS, temperature: float = 0.2,
                 augmentation: float = 1.0, seed: int = 0) -> None:
        self.temperature = temperature
        self.augmentation = augmentation
        g = torch.Generator().manual_seed(seed)
        centres = torch.randn(classes, INPUT_DIM, generator=g) * CENTRE_SCALE
        self.labels = torch.arange(classes).repeat_interleave(per_class)
        self.inputs = centres[self.labels] + CLASS_SPREAD * torch.randn(len(self.labels), INPUT_DIM, generator=g)
        self._noise = torch.Generator().manual_seed(seed + 1)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.model = nn.Sequential(nn.Linear(INPUT_DIM, HIDDEN), nn.Tanh(), nn.Linear(HIDDEN, 2))
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=LEARNING_RATE)
        self.losses: list[float] = []

    def views(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Two augmented views of every input: the input plus noise of std ``augmentation``."""
        def noisy() -> torch.Tensor:
            return self.inputs + self.augmentation * torch.randn(self.inputs.shape, generator=self._noise)
        return noisy(), noisy()

    def step(self, count: int = 1) -> float:
        """``count`` gradient steps of NT-Xent over the whole set; the last loss."""
        for _ in range(count):
            v1, v2 = self.views()
            loss = nt_xent(self.model(v1), self.model(v2), self.temperature)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            self.losses.append(float(loss.detach()))
        return self.losses[-1]

    @torch.no_grad()
    def embeddings(self) -> np.ndarray:
        """Where each (clean) input lands on the unit circle: N×2."""
        return F.normalize(self.model(self.inputs), dim=1).numpy()

    @torch.no_grad()
    def quality(self) -> tuple[float, float]:
        """(alignment, uniformity) of two fresh views (Wang & Isola 2020): lower is better for both."""
        v1, v2 = self.views()
        z1, z2 = F.normalize(self.model(v1), dim=1), F.normalize(self.model(v2), dim=1)
        return float(alignment(z1, z2)), float(uniformity(z1))


def _log_slider(tooltip: str) -> QSlider:
    slider = QSlider(Qt.Orientation.Horizontal)
    slider.setRange(0, 100)
    slider.setToolTip(tooltip)
    return slider


class ContrastiveSimulator(ThemedWidget):
    """Start / Step / Reset over a :class:`ContrastiveToy`, with τ and augmentation strength controls."""

    ticked = Signal(int, float)  # steps so far, last loss

    TAU_RANGE = (0.05, 1.0)
    AUG_MAX = 2.0

    def __init__(self, parent: QWidget | None = None, seed: int = 0) -> None:
        super().__init__(parent)
        self.seed = seed
        self.toy = ContrastiveToy(seed=seed)
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self.tick)

        self.canvas = pg.GraphicsLayoutWidget()
        self.circle_plot = self.canvas.addPlot(row=0, col=0)
        self.circle_plot.setAspectLocked(True)
        self.circle_plot.setRange(xRange=(-1.25, 1.25), yRange=(-1.25, 1.25), padding=0)
        self.circle_plot.setMouseEnabled(x=False, y=False)
        self.circle_plot.hideButtons()
        for side in ("left", "bottom"):
            self.circle_plot.hideAxis(side)
        theta = np.linspace(0, 2 * np.pi, 241)
        self.circle = self.circle_plot.plot(np.cos(theta), np.sin(theta))
        self.scatter = pg.ScatterPlotItem(size=8, pen=None)
        self.scatter.setToolTip("Each dot is one input where the model puts it on the unit circle, coloured by its "
                                "hidden class (the model never sees it); where dots pile up the colour deepens")
        self.circle_plot.addItem(self.scatter)
        self.loss_plot = self.canvas.addPlot(row=0, col=1)
        self.loss_plot.setLabel("bottom", "step")
        self.loss_plot.setLabel("left", "NT-Xent loss")
        self.loss_curve = self.loss_plot.plot()
        self.canvas.ci.layout.setColumnStretchFactor(0, 3)
        self.canvas.ci.layout.setColumnStretchFactor(1, 2)

        self.readout = wrapping_label()
        self.tau_slider = _log_slider("Temperature τ of NT-Xent (log scale)")
        self.tau_label = QLabel()
        self.aug_slider = _log_slider("Augmentation strength: std of the noise added to each view's input "
                                      "(class centres are ~1.5 apart per dimension, instances ~0.5)")
        self.aug_label = QLabel()
        for label in (self.tau_label, self.aug_label):
            label.setMinimumWidth(40)
        self.classes_spin = QSpinBox()
        self.classes_spin.setRange(2, 8)
        self.classes_spin.setValue(4)
        self.classes_spin.setPrefix("classes: ")
        self.classes_spin.setToolTip("Hidden classes in the inputs (changing it starts over)")
        self.start_button = QPushButton("Start")
        self.start_button.setCheckable(True)
        self.step_button = QPushButton("Step")
        self.step_button.setToolTip("One gradient step")
        self.reset_button = QPushButton("Reset")
        self.reset_button.setToolTip("New random model, same inputs")

        controls = QHBoxLayout()
        for widget, stretch in ((QLabel("τ"), 0), (self.tau_slider, 1), (self.tau_label, 0),
                                (QLabel("augmentation"), 0), (self.aug_slider, 1), (self.aug_label, 0),
                                (self.classes_spin, 0), (self.start_button, 0), (self.step_button, 0),
                                (self.reset_button, 0)):
            controls.addWidget(widget, stretch)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.readout)
        layout.addLayout(controls)

        self.tau_slider.valueChanged.connect(self._tau_moved)
        self.aug_slider.valueChanged.connect(self._aug_moved)
        self.classes_spin.valueChanged.connect(lambda _v: self.reset())
        self.start_button.toggled.connect(self.set_running)
        self.step_button.clicked.connect(lambda: self.tick(1))
        self.reset_button.clicked.connect(self.reset)
        self.set_temperature(self.toy.temperature)
        self.set_augmentation(self.toy.augmentation)
        self.restyle()

    # -- controls --------------------------------------------------------------------------
    def set_temperature(self, tau: float) -> None:
        lo, hi = self.TAU_RANGE
        self.toy.temperature = float(min(max(tau, lo), hi))
        self.tau_slider.blockSignals(True)
        self.tau_slider.setValue(round(100 * math.log(self.toy.temperature / lo) / math.log(hi / lo)))
        self.tau_slider.blockSignals(False)
        self.tau_label.setText(f"{self.toy.temperature:.2f}")

    def set_augmentation(self, strength: float) -> None:
        self.toy.augmentation = float(min(max(strength, 0.0), self.AUG_MAX))
        self.aug_slider.blockSignals(True)
        self.aug_slider.setValue(round(100 * self.toy.augmentation / self.AUG_MAX))
        self.aug_slider.blockSignals(False)
        self.aug_label.setText(f"{self.toy.augmentation:.2f}")

    @Slot(bool)
    def set_running(self, running: bool) -> None:
        self.start_button.blockSignals(True)
        self.start_button.setChecked(running)
        self.start_button.blockSignals(False)
        self.start_button.setText("Pause" if running else "Start")
        self.step_button.setEnabled(not running)
        if running:
            self.timer.start()
        else:
            self.timer.stop()

    def is_running(self) -> bool:
        return self.timer.isActive()

    def hideEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.set_running(False)  # a closed or tabbed-away simulator does not train on in the background
        super().hideEvent(event)

    @Slot()
    def reset(self) -> None:
        """A fresh model (new seed) on inputs with the chosen number of classes; τ and augmentation kept."""
        self.seed += 1
        tau, aug = self.toy.temperature, self.toy.augmentation
        self.toy = ContrastiveToy(self.classes_spin.value(), temperature=tau, augmentation=aug, seed=self.seed)
        self.restyle()

    @Slot()
    def tick(self, steps: int = STEPS_PER_TICK) -> None:
        """Train ``steps`` real gradient steps and redraw (the timer calls this while running)."""
        loss = self.toy.step(steps)
        self._redraw()
        self.ticked.emit(len(self.toy.losses), loss)

    def _tau_moved(self, value: int) -> None:
        lo, hi = self.TAU_RANGE
        self.set_temperature(lo * (hi / lo) ** (value / 100))

    def _aug_moved(self, value: int) -> None:
        self.set_augmentation(value / 100 * self.AUG_MAX)

    # -- drawing ---------------------------------------------------------------------------
    def _redraw(self) -> None:
        self.scatter.setData(pos=self.toy.embeddings(), brush=self._brushes)
        losses = np.asarray(self.toy.losses)
        self.loss_curve.setData(np.arange(1, len(losses) + 1), losses)
        align, unif = self.toy.quality()
        last = f"{losses[-1]:.3f}" if len(losses) else "–"
        self.readout.setText(
            f"step {len(losses)} · loss {last} · alignment {align:.3f} · uniformity {unif:.3f} "
            f"(both lower is better) · {len(self.toy.labels)} inputs, {int(self.toy.labels.max()) + 1} hidden classes"
        )

    def restyle(self) -> None:
        theme = current_theme()
        style_canvas(self.canvas)
        style_plot(self.circle_plot, "Embeddings on the unit circle (colour: hidden class)")
        style_plot(self.loss_plot, "Loss")
        self.circle.setPen(pg.mkPen(theme.muted, width=1))
        self.loss_curve.setPen(pg.mkPen(theme.highlight, width=2))
        palette = []
        for c in range(int(self.toy.labels.max()) + 1):
            colour = class_colour(c)
            colour.setAlpha(POINT_ALPHA)
            palette.append(pg.mkBrush(colour))
        self._brushes = [palette[c] for c in self.toy.labels.tolist()]
        self._redraw()
