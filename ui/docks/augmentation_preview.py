"""Augmentation preview: what the model is trained on, drawn by the method's own ``preview``.

The panels come from ``Method.preview(image, g)`` — the same view pipeline the trainer calls on a
batch — built from the window's current config, off the GUI thread. Controls here edit the shared
AugmentConfig; every change (here or in the configuration dock) redraws with the same seed, so
only the change itself is visible. Re-roll draws a new seed.
"""

from __future__ import annotations

import json
import random

import torch
from PySide6.QtCore import QRect, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QDockWidget, QGridLayout, QHBoxLayout, QLabel, QPushButton, QScrollArea, QSlider, QVBoxLayout,
    QWidget,
)

from labbench.config import to_dict
from labbench.errors import ConfigError
from labbench.methods import Method, PreviewPanel, build_method
from labbench.run_config import RunConfig
from ui.state import ConfigState
from ui.tasks import TaskRunner
from ui.widgets.image_view import float_to_qimage
from ui.widgets.labels import wrapping_label

DEBOUNCE_MS = 120  # a dragged slider redraws once it rests, not on every tick
# AugmentConfig fields with a slider: (label, field, index into a (low, high) pair or None, min, max);
# a crop keeps some area: its scale starts at one slider step, never at the invalid 0
CONTROLS = (
    ("Crop scale min", "crop_scale", 0, 0.01, 1.0),
    ("Crop scale max", "crop_scale", 1, 0.01, 1.0),
    ("Jitter strength", "jitter_strength", None, 0.0, 2.0),
    ("Flip p", "flip_p", None, 0.0, 1.0),
    ("Grayscale p", "grayscale_p", None, 0.0, 1.0),
    ("Blur p", "blur_p", None, 0.0, 1.0),
    ("Solarize p", "solarize_p", None, 0.0, 1.0),
)
SLIDER_STEPS = 100
MIN_TILE_SHARE = 0.3  # a 7-px patch is still drawn large enough to see


def method_key(config: RunConfig) -> str:
    """What a built method depends on: rebuild only when one of these changes."""
    d = to_dict(config)
    return json.dumps({k: d.get(k) for k in ("method", "backbone", "augment")} | {"size": config.data.image_size},
                      sort_keys=True)


class PreviewMethods:
    """The method a preview is drawn by, built again only when what it depends on changes.
    Used by one task at a time (the preview's runner runs one), so it needs no lock."""

    def __init__(self) -> None:
        self._cached: tuple[str, Method] | None = None

    def method_for(self, config: RunConfig) -> Method:
        key = method_key(config)
        if self._cached is None or self._cached[0] != key:
            self._cached = (key, build_method(config).eval())
        return self._cached[1]

    def preview(self, config: RunConfig, image: torch.Tensor, seed: int) -> list[PreviewPanel]:
        with torch.inference_mode():
            return self.method_for(config).preview(image, torch.Generator().manual_seed(seed))


class _SliderRow(QWidget):
    """A labelled slider over [minimum, maximum] (in ``SLIDER_STEPS`` steps of maximum) with the value beside it."""

    def __init__(self, label: str, minimum: float, maximum: float, tooltip: str, on_change) -> None:
        super().__init__()
        self.maximum = maximum
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        name = QLabel(label)
        name.setMinimumWidth(110)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(round(minimum / maximum * SLIDER_STEPS), SLIDER_STEPS)
        self.value_label = QLabel()
        self.value_label.setMinimumWidth(36)
        self.value_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        for w in (name, self.slider):
            w.setToolTip(tooltip)
        row.addWidget(name)
        row.addWidget(self.slider, 1)
        row.addWidget(self.value_label)
        self.slider.valueChanged.connect(self._show)
        self.slider.valueChanged.connect(lambda _v: on_change())

    def value(self) -> float:
        return round(self.slider.value() * self.maximum / SLIDER_STEPS, 4)

    def set_value(self, value: float) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(round(value / self.maximum * SLIDER_STEPS))
        self.slider.blockSignals(False)
        self._show()

    def _show(self, *_args) -> None:
        self.value_label.setText(f"{self.value():.2f}")


def order_panels(panels: list[PreviewPanel]) -> list[tuple[str, list[PreviewPanel]]]:
    """Panels by group, groups in order of first appearance, larger views first within a group
    (DINO: globals then locals, largest first)."""
    groups: dict[str, list[PreviewPanel]] = {}
    for p in panels:
        groups.setdefault(p.group, []).append(p)
    return [(g, sorted(ps, key=lambda p: -p.image.shape[0])) for g, ps in groups.items()]


class AugmentationPreview(QDockWidget):
    """Views of the selected image as the current method makes them, grouped the method's way."""

    rendered = Signal(object)  # list[PreviewPanel] now on screen

    def __init__(self, state: ConfigState, parent: QWidget | None = None) -> None:
        super().__init__("Augmentation preview", parent)
        self.setObjectName("augmentation_preview")
        self.state = state
        self.seed = 0
        self.panels: list[PreviewPanel] = []
        self._image: torch.Tensor | None = None
        self._methods = PreviewMethods()
        self._renderer = TaskRunner(self, latest_wins=True)  # one at a time: the cached method is not shared
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self.redraw)

        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        top = QHBoxLayout()
        self.caption = wrapping_label("Select an image in the dataset browser", role="muted")
        self.reroll_button = QPushButton("Re-roll")
        self.reroll_button.setToolTip("Draw new random augmentation parameters")
        self.reroll_button.clicked.connect(self.reroll)
        top.addWidget(self.caption, 1)
        top.addWidget(self.reroll_button)
        layout.addLayout(top)

        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.canvas = QWidget()
        self.grid = QVBoxLayout(self.canvas)
        self.grid.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.scroll.setWidget(self.canvas)
        layout.addWidget(self.scroll, 1)

        self.error = wrapping_label(role="error")
        self.error.hide()
        layout.addWidget(self.error)

        fields = type(state.config.augment).model_fields
        self.sliders: dict[tuple[str, int | None], _SliderRow] = {}
        for label, name, index, minimum, maximum in CONTROLS:
            row = _SliderRow(label, minimum, maximum, fields[name].description or "",
                             lambda n=name: self._slider_moved(n))
            self.sliders[(name, index)] = row
            layout.addWidget(row)
        self.setWidget(body)
        self._sync_sliders(state.config)
        state.changed.connect(self._config_changed)

    def set_editable(self, editable: bool) -> None:
        """Lock the augmentation controls while a run trains: the preview then shows what it trains on."""
        for row in self.sliders.values():
            row.setEnabled(editable)

    # -- inputs ----------------------------------------------------------------------------
    @Slot(object, str)
    def set_image(self, image: torch.Tensor, caption: str = "") -> None:
        """The uint8 3×H×W image to preview (from the dataset browser)."""
        self._image = image
        self.caption.setText(caption)
        self.redraw()

    @Slot()
    def reroll(self) -> None:
        self.seed = random.randrange(2**31)
        self.redraw()

    @Slot(object)
    def _config_changed(self, config: RunConfig) -> None:
        self._sync_sliders(config)
        self._debounce.start()

    def _sync_sliders(self, config: RunConfig) -> None:
        for (name, index), row in self.sliders.items():
            value = getattr(config.augment, name)
            row.set_value(value[index] if index is not None else value)

    def _slider_moved(self, name: str) -> None:
        rows = [self.sliders[k] for k in self.sliders if k[0] == name]
        value = tuple(r.value() for r in rows) if len(rows) > 1 else rows[0].value()
        try:
            self.state.update("augment", {name: value})
        except ConfigError as err:
            self._show_error(str(err))
            return
        self._show_error("")

    # -- drawing ---------------------------------------------------------------------------
    @Slot()
    def redraw(self) -> None:
        if self._image is not None:
            config, image, seed, methods = self.state.config, self._image, self.seed, self._methods
            self._renderer.submit(lambda _progress: methods.preview(config, image, seed), self._on_ready,
                                  failed=lambda message: self._show_error(f"Preview failed: {message}"))

    def wait(self) -> None:
        """Block until the pending preview is drawn off-thread (its result still arrives as an event)."""
        self._renderer.wait()

    def _on_ready(self, panels: list[PreviewPanel]) -> None:
        self._show_error("")
        self.panels = panels
        self._layout_panels()
        self.rendered.emit(panels)

    def _show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        if self.panels:
            self._layout_panels()

    def _layout_panels(self) -> None:
        while self.grid.count():
            item = self.grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        if not self.panels:
            return
        width = max(self.scroll.viewport().width() - 16, 120)
        tile = max(72, min(200, width // 3))
        columns = max(1, width // (tile + 8))
        image_size = self.state.config.data.image_size
        for group, panels in order_panels(self.panels):
            if group:
                heading = QLabel(group.replace("_", " ").capitalize())
                heading.setProperty("role", "heading")
                self.grid.addWidget(heading)
            cells = QWidget()
            grid = QGridLayout(cells)
            grid.setContentsMargins(0, 0, 0, 6)
            grid.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
            for i, panel in enumerate(panels):
                # Drawn at their size relative to the training image: DINO's local crops look small.
                share = min(max(panel.image.shape[0] / image_size, MIN_TILE_SHARE), 1.0)
                grid.addWidget(self._tile(panel, round(tile * share), tile), i // columns, i % columns,
                               Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter)
            self.grid.addWidget(cells)

    @staticmethod
    def _tile(panel: PreviewPanel, side: int, width: int) -> QWidget:
        tile = QWidget()
        tile.setFixedWidth(width)
        box = QVBoxLayout(tile)
        box.setContentsMargins(2, 2, 2, 2)
        box.setSpacing(2)
        picture = QLabel()
        pixmap = QPixmap.fromImage(float_to_qimage(panel.image)).scaled(
            side, side, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation
        )
        picture.setPixmap(pixmap)
        picture.setFixedSize(pixmap.size())
        title = QLabel(panel.title)
        title.setWordWrap(True)  # methods explain their views at length; the tile sets the width
        title.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        # Wrapped labels do not tell a grid their height reliably: measure it, so titles never overlap.
        flags = Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignHCenter
        title.setFixedHeight(title.fontMetrics().boundingRect(QRect(0, 0, width - 4, 10_000), flags, panel.title).height())
        for w in (picture, title):
            w.setToolTip(f"{panel.title}\n{panel.image.shape[1]}×{panel.image.shape[0]} px")
        box.addWidget(picture, 0, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom)
        box.addWidget(title)
        box.addStretch(1)
        return tile
