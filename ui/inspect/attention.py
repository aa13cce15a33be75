"""Attention maps: where a ViT's CLS token looks in the last block, per head, through training.

The maps are the run's probe files (``probes/epoch-XXXX.npz``, written at each epoch end by
:mod:`labbench.evaluate.probes`), so the epoch scrubber shows how they formed. Left: the chosen
head (or the mean over heads) as a heat map over the image. Right: only the patches that hold the
chosen share of the attention mass (DINO's ``visualize_attention.py``, 60 % by default), with the
object's outline where the data set knows it; their Jaccard index against the object mask is the
number DINO reports on PASCAL VOC (Caron et al. 2021, Table 4). Below: every head, click one to
pick it.
"""

from __future__ import annotations


import numpy as np
import pyqtgraph as pg
import torch
from PySide6.QtCore import QSignalBlocker, QSize, Qt, Slot
from PySide6.QtWidgets import (
    QComboBox, QHBoxLayout, QLabel, QListView, QListWidget, QListWidgetItem, QSlider, QWidget,
)

from labbench.config import BackboneConfig
from labbench.evaluate.attention import DEFAULT_MASS, AttentionMaps, attention_jaccard, keep_mass
from labbench.evaluate.probes import list_probes
from labbench.runs import RunInfo
from ui.inspect.pictures import heat_rgba, icon, image_item, outline, paint
from ui.inspect.plot_style import image_view_box, style_canvas
from ui.inspect.probe_viewer import ProbeViewer
from ui.theme import current_theme
from ui.widgets.labels import wrapping_label

MEAN = -1  # the head index that stands for the mean over heads
THUMB = 44


def hex_rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))


class AttentionViewer(ProbeViewer):
    """Last-block CLS→patch attention of a ViT run's probe images, per head and epoch."""

    reading = "reading the attention maps of epoch {epoch}"
    needs = "a ViT backbone (its attention is what is drawn)"

    def __init__(self, parent: QWidget | None = None) -> None:
        self.arrays: dict[str, np.ndarray] | None = None  # the epoch on show
        self.image_index = 0
        self.head = MEAN
        self.fraction = DEFAULT_MASS
        self.jaccard: dict[str, float] = {}
        super().__init__(parent)

        self.head_combo = QComboBox()
        self.head_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.head_combo.setToolTip("One head's map, or their mean")
        self.mass_slider = QSlider(Qt.Orientation.Horizontal)
        self.mass_slider.setRange(5, 100)
        self.mass_slider.setValue(round(100 * DEFAULT_MASS))
        self.mass_slider.setToolTip("Keep the fewest patches that hold this share of the attention mass (DINO: 60 %)")
        self.mass_label = QLabel()
        self.mass_label.setMinimumWidth(40)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Head"))
        controls.addWidget(self.head_combo)
        controls.addSpacing(12)
        controls.addWidget(QLabel("Attention mass kept"))
        controls.addWidget(self.mass_slider, 1)
        controls.addWidget(self.mass_label)

        self.images = QListWidget()
        self.images.setViewMode(QListView.ViewMode.IconMode)
        self.images.setFlow(QListView.Flow.LeftToRight)
        self.images.setWrapping(False)
        self.images.setIconSize(QSize(THUMB, THUMB))
        self.images.setFixedHeight(THUMB + 34)
        self.images.setToolTip("The run's probe images: the same eval images at every epoch")

        self.canvas = pg.GraphicsLayoutWidget()
        self.heat_title = self.canvas.addLabel("", row=0, col=0)
        self.keep_title = self.canvas.addLabel("", row=0, col=1)
        self.heat_box, self.keep_box = image_view_box(), image_view_box()
        self.canvas.addItem(self.heat_box, row=1, col=0)
        self.canvas.addItem(self.keep_box, row=1, col=1)
        self.picture_item, self.heat_item, self.keep_item = image_item(), image_item(), image_item()
        self.heat_box.addItem(self.picture_item)
        self.heat_box.addItem(self.heat_item)
        self.keep_box.addItem(self.keep_item)
        self.heads_layout = self.canvas.addLayout(row=2, col=0, colspan=2)
        self.canvas.ci.layout.setRowStretchFactor(1, 3)
        self.canvas.ci.layout.setRowStretchFactor(2, 1)
        self.head_boxes: list[pg.ViewBox] = []
        self.head_items: list[pg.ImageItem] = []
        self.head_labels: list[pg.LabelItem] = []
        self.canvas.scene().sigMouseClicked.connect(self._clicked)

        self.score = wrapping_label()

        self.body.addLayout(controls)
        self.body.addWidget(self.images)
        self.body.addWidget(self.canvas, 1)
        self.body.addWidget(self.score)
        self.body.addWidget(self.scrubber)

        self.head_combo.currentIndexChanged.connect(self._head_chosen)
        self.mass_slider.valueChanged.connect(self._mass_moved)
        self.images.currentRowChanged.connect(self._image_chosen)
        self._mass_moved(self.mass_slider.value())
        self.restyle()

    # -- reading the run -------------------------------------------------------------------
    def accepts(self, info: RunInfo) -> bool:
        return info.backbone is None or BackboneConfig(name=info.backbone).is_vit

    def reload(self) -> None:
        self.set_probe_epochs([e for e, _ in list_probes(self.run_dir)],
                              "No probe files yet: a run writes one at the end of each epoch "
                              "(and none when eval.probe_images is 0).")

    def show_probe(self, epoch: int, arrays: dict[str, np.ndarray]) -> None:
        if "attention" not in arrays:
            self.show_notice("This run's probe files hold no attention maps: they need a ViT backbone.")
            return
        self.show_notice("")
        first = self.arrays is None or len(self.arrays["images"]) != len(arrays["images"]) \
            or self.arrays["attention"].shape[1] != arrays["attention"].shape[1]
        self.arrays = arrays
        if first:
            self._fill_controls()
        self.redraw()

    def _fill_controls(self) -> None:
        images, heads = self.arrays["images"], self.arrays["attention"].shape[1]
        with QSignalBlocker(self.images):
            self.images.clear()
            for i, rgb in enumerate(images):
                item = QListWidgetItem(icon(rgb, THUMB), str(i + 1))
                item.setToolTip(f"probe image {i + 1} (eval image {int(self.arrays['indices'][i])})")
                self.images.addItem(item)
            self.image_index = min(self.image_index, len(images) - 1)
            self.images.setCurrentRow(self.image_index)
        with QSignalBlocker(self.head_combo):
            self.head_combo.clear()
            self.head_combo.addItem("mean of heads", MEAN)
            for h in range(heads):
                self.head_combo.addItem(f"head {h + 1}", h)
            self.head = MEAN if self.head >= heads else self.head
            self.head_combo.setCurrentIndex(self.head + 1)
        self._make_head_strip(heads)

    def _make_head_strip(self, heads: int) -> None:
        self.heads_layout.clear()
        self.head_boxes, self.head_items, self.head_labels = [], [], []
        for h in [MEAN, *range(heads)]:
            col = h + 1
            label = self.heads_layout.addLabel("mean" if h == MEAN else f"head {h + 1}", row=0, col=col, size="8pt")
            box = image_view_box()
            item = image_item()
            box.addItem(item)
            self.heads_layout.addItem(box, row=1, col=col)
            self.head_boxes.append(box)
            self.head_items.append(item)
            self.head_labels.append(label)

    # -- controls --------------------------------------------------------------------------
    @Slot(int)
    def _head_chosen(self, index: int) -> None:
        self.head = self.head_combo.itemData(index) if index >= 0 else MEAN
        self.redraw()

    def set_head(self, head: int) -> None:
        """Show ``head`` (0-based) or the mean (``MEAN``)."""
        self.head_combo.setCurrentIndex(head + 1)

    @Slot(int)
    def _mass_moved(self, value: int) -> None:
        self.fraction = value / 100
        self.mass_label.setText(f"{value} %")
        self.redraw()

    @Slot(int)
    def _image_chosen(self, row: int) -> None:
        if row >= 0:
            self.image_index = row
            self.redraw()

    def _clicked(self, event) -> None:
        for h, box in zip([MEAN, *range(len(self.head_boxes) - 1)], self.head_boxes):
            if box.sceneBoundingRect().contains(event.scenePos()):
                self.set_head(h)
                return

    # -- drawing ---------------------------------------------------------------------------
    def maps(self) -> AttentionMaps:
        """The probe images' attention of the epoch on show."""
        heads = torch.from_numpy(self.arrays["attention"].astype(np.float32))
        return AttentionMaps(heads, int(self.arrays["images"].shape[1]))

    def redraw(self) -> None:
        if self.arrays is None or "attention" not in self.arrays:
            return
        maps = self.maps()
        i = self.image_index
        picture = self.arrays["images"][i]
        chosen = maps.mean[i] if self.head == MEAN else maps.heads[i, self.head]
        # the image in grey under the heat map, so the map's colours are not confused with the image's
        self.picture_item.setImage(np.repeat(picture.mean(axis=2, keepdims=True), 3, axis=2).astype(np.uint8))
        self.heat_item.setImage(heat_rgba(maps.upsampled(chosen).numpy()))
        keep = maps.upsampled(keep_mass(chosen, self.fraction)).numpy()
        kept = (picture * (0.2 + 0.8 * keep[..., None])).astype(np.uint8)
        masks = self.arrays.get("masks")
        if masks is not None:
            kept = paint(kept, outline(masks[i]), hex_rgb(current_theme().highlight))
        self.keep_item.setImage(kept)
        for h, item in enumerate(self.head_items):
            head_map = maps.mean[i] if h == 0 else maps.heads[i, h - 1]
            item.setImage(heat_rgba(maps.upsampled(head_map).numpy(), alpha=1.0))
        self._show_titles()
        self._show_score(maps, masks)

    def _show_titles(self) -> None:
        theme = current_theme()
        name = "mean of heads" if self.head == MEAN else f"head {self.head + 1}"
        self.heat_title.setText(f"CLS attention, {name} (over the image in grey)", color=theme.plot_foreground)
        self.keep_title.setText(f"patches holding {self.fraction:.0%} of the mass", color=theme.plot_foreground)
        for h, label in enumerate(self.head_labels):
            chosen = h - 1 == self.head
            label.setText("mean" if h == 0 else f"head {h}", color=theme.highlight if chosen else theme.muted,
                          bold=chosen, size="8pt")

    def _show_score(self, maps: AttentionMaps, masks: np.ndarray | None) -> None:
        if masks is None:
            self.jaccard = {}
            self.score.setText("No object masks in this data set: the Jaccard index needs the built-in shapes.")
            return
        scores = attention_jaccard(maps, torch.from_numpy(masks), self.fraction)
        i = self.image_index
        self.jaccard = {
            "mean_map": float(scores.mean_map[i]),
            "chosen": float(scores.mean_map[i] if self.head == MEAN else scores.heads[i, self.head]),
            "best_head": float(scores.best_head[i]),
            "all_images": float(scores.mean_map.mean()),
        }
        name = "mean of heads" if self.head == MEAN else f"head {self.head + 1}"
        self.score.setText(
            f"Jaccard vs the object mask at {self.fraction:.0%} of the mass — "
            f"{name}: <b>{self.jaccard['chosen']:.2f}</b>"
            f" · mean map {self.jaccard['mean_map']:.2f} · best head {self.jaccard['best_head']:.2f}"
            f" · mean map over the {len(masks)} probe images {self.jaccard['all_images']:.2f}"
        )

    def restyle(self) -> None:
        style_canvas(self.canvas)
        self.redraw()
