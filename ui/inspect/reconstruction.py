"""MAE reconstructions: original | masked input | reconstruction | reconstruction pasted into the visible patches.

As in He et al. 2022 (Fig. 2–4). The epoch scrubber shows the run's probe files, each made with
the training mask ratio and the same mask (seed 0), so epochs compare like with like. Moving the
mask-ratio slider or pressing Re-mask asks the run's latest checkpoint for new reconstructions of the
same images through :func:`labbench.evaluate.reconstruction.reconstruct`. Each row ends with that
image's loss (the training loss: MSE on the masked patches).
"""

from __future__ import annotations

import random

import numpy as np
import pyqtgraph as pg
import torch
from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QWidget

from labbench.evaluate.probes import MASK_SEED, list_probes
from labbench.evaluate.reconstruction import PANELS, reconstruct
from labbench.methods import METHODS
from labbench.runs import RunInfo, load_run_config
from ui.inspect.pictures import image_item, to_rgb8
from ui.inspect.plot_style import image_view_box, style_canvas
from ui.inspect.run_cache import RUNS, device_of
from ui.inspect.probe_viewer import ProbeViewer
from ui.theme import current_theme
from ui.widgets.labels import wrapping_label

GAP = 2  # pixels between the pictures of the mosaic
ROWS_PER_BLOCK = 4
LOSS_SPACE = 1.8  # panel widths right of each block, where the losses are written
DEBOUNCE_MS = 150
TITLES = {"original": "original", "masked": "masked", "reconstruction": "reconstruction", "pasted": "pasted"}


def row_origins(count: int, h: int, w: int) -> list[tuple[int, int]]:
    """Top-left pixel of each image's row of panels: ``ROWS_PER_BLOCK`` rows a block, blocks side by side
    with room for the losses between them (so eight probe images fill a wide view, not a tall strip)."""
    block_width = round(len(PANELS) * (w + GAP) + LOSS_SPACE * w)
    return [((i // ROWS_PER_BLOCK) * block_width, (i % ROWS_PER_BLOCK) * (h + GAP)) for i in range(count)]


def mosaic(pictures: dict[str, np.ndarray], background: tuple[int, int, int]) -> np.ndarray:
    """Every image's panels (``pictures[name]``: K×H×W×3) at :func:`row_origins`: one array for one ImageItem."""
    count, h, w = pictures[PANELS[0]].shape[:3]
    origins = row_origins(count, h, w)
    width = max(x for x, _ in origins) + len(PANELS) * (w + GAP) - GAP
    height = min(count, ROWS_PER_BLOCK) * (h + GAP) - GAP
    out = np.empty((height, width, 3), dtype=np.uint8)
    out[:] = background
    for i, (x, y) in enumerate(origins):
        for c, name in enumerate(PANELS):
            out[y : y + h, x + c * (w + GAP) : x + c * (w + GAP) + w] = pictures[name][i]
    return out


class ReconstructionViewer(ProbeViewer):
    """A masked-image model's reconstructions of the probe images, per epoch or re-masked now."""

    reading = "reading the reconstructions of epoch {epoch}"

    needs = "a masked-image model with a decoder, such as MAE"

    def __init__(self, parent: QWidget | None = None) -> None:
        self.pictures: dict[str, np.ndarray] | None = None  # panel name -> K×H×W×3 uint8, "loss" -> K
        self.source = ""
        self.train_ratio = 0.75
        self.seed = MASK_SEED
        super().__init__(parent)

        self.ratio_slider = QSlider(Qt.Orientation.Horizontal)
        self.ratio_slider.setRange(5, 95)
        self.ratio_slider.setToolTip("Share of patches removed before the encoder sees the image (MAE trains at 75 %)")
        self.ratio_label = QLabel()
        self.ratio_label.setMinimumWidth(40)
        self.remask_button = QPushButton("Re-mask")
        self.remask_button.setToolTip("Draw a new random mask and reconstruct with the latest checkpoint")
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Mask ratio"))
        controls.addWidget(self.ratio_slider, 1)
        controls.addWidget(self.ratio_label)
        controls.addWidget(self.remask_button)

        self.canvas = pg.GraphicsLayoutWidget()
        self.box = image_view_box()
        self.canvas.addItem(self.box)
        self.mosaic_item = image_item()
        self.box.addItem(self.mosaic_item)
        self.titles: list[pg.TextItem] = []  # the panel names above each block
        self.loss_items: list[pg.TextItem] = []
        self.caption = wrapping_label()
        self.body.addLayout(controls)
        self.body.addWidget(self.canvas, 1)
        self.body.addWidget(self.caption)
        self.body.addWidget(self.scrubber)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self.reconstruct_now)
        self.ratio_slider.valueChanged.connect(self._ratio_moved)
        self.remask_button.clicked.connect(self.remask)
        self._set_ratio_slider(self.train_ratio)
        self.restyle()

    # -- stored probes ---------------------------------------------------------------------
    def accepts(self, info: RunInfo) -> bool:
        return info.method is None or hasattr(METHODS.get(info.method), "reconstruct")

    def reload(self) -> None:
        self.train_ratio = float(getattr(load_run_config(self.run_dir).method, "mask_ratio", self.train_ratio))
        self._set_ratio_slider(self.train_ratio)
        self.set_probe_epochs([e for e, _ in list_probes(self.run_dir)],
                              "No probe files yet: a run writes one at the end of each epoch.")

    def show_probe(self, epoch: int, arrays: dict[str, np.ndarray]) -> None:
        if "reconstruction" not in arrays:
            self.show_notice("This run's probe files hold no reconstructions: they need a masked-image model (MAE).")
            return
        self.show_notice("")
        self._set_ratio_slider(self.train_ratio)
        pictures = {"original": arrays["images"], **{name: arrays[name] for name in PANELS[1:]}}
        self._show(pictures, arrays["reconstruction_loss"],
                   f"Epoch {epoch}, stored at the end of the epoch: training mask ratio {self.train_ratio:.0%}, "
                   f"the same mask (seed {MASK_SEED}) at every epoch.")

    # -- the checkpoint, re-masked ---------------------------------------------------------
    @Slot()
    def remask(self) -> None:
        self.seed = random.randrange(1, 2**31)
        self.reconstruct_now()

    def mask_ratio(self) -> float:
        return self.ratio_slider.value() / 100

    @Slot()
    def reconstruct_now(self) -> None:
        """Reconstruct the probe images with the latest checkpoint at the slider's ratio and the current seed."""
        key = (self.run_dir, self.scrubber.epoch())
        if key not in self._probes:
            return
        images = torch.from_numpy(self._probes[key]["images"]).permute(0, 3, 1, 2).contiguous()
        ratio, seed, run_dir = self.mask_ratio(), self.seed, self.run_dir

        def work(progress):
            loaded = RUNS.loaded(run_dir)
            rec = reconstruct(loaded.method, images, mask_ratio=ratio, seed=seed,
                              image_size=loaded.config.data.image_size, device=device_of(loaded))
            return loaded, rec

        self.tasks.start(f"reconstructing at mask ratio {ratio:.0%}", work, self._reconstructed)

    def _reconstructed(self, result) -> None:
        loaded, rec = result
        pictures = {name: to_rgb8(getattr(rec, name)) for name in PANELS}
        self._show(pictures, rec.per_image_loss,
                   f"Latest checkpoint (epoch {loaded.epoch}, step {loaded.step}): mask ratio {rec.mask_ratio:.0%}, "
                   f"mask seed {self.seed}. The scrubber goes back to the stored epochs.")

    @Slot(int)
    def _ratio_moved(self, value: int) -> None:
        self.ratio_label.setText(f"{value} %")
        self._debounce.start()

    def _set_ratio_slider(self, ratio: float) -> None:
        with QSignalBlocker(self.ratio_slider):
            self.ratio_slider.setValue(round(100 * ratio))
        self.ratio_label.setText(f"{round(100 * ratio)} %")

    # -- drawing ---------------------------------------------------------------------------
    def _show(self, pictures: dict[str, np.ndarray], losses: np.ndarray, source: str) -> None:
        self.pictures = {**pictures, "loss": np.asarray(losses, dtype=np.float32)}
        self.source = source
        self.redraw()

    def redraw(self) -> None:
        if self.pictures is None:
            return
        theme = current_theme()
        count, h, w = self.pictures["original"].shape[:3]
        background = tuple(int(theme.plot_background[i : i + 2], 16) for i in (1, 3, 5))
        picture = mosaic(self.pictures, background)
        self.mosaic_item.setImage(picture)
        origins = row_origins(count, h, w)
        blocks = sorted({x for x, _ in origins})
        self.titles = self._texts(self.titles, len(blocks) * len(PANELS), (0.5, 1))
        for k, title in enumerate(self.titles):
            x = blocks[k // len(PANELS)] + (k % len(PANELS)) * (w + GAP) + w / 2
            title.setText(TITLES[PANELS[k % len(PANELS)]], color=theme.plot_foreground)
            title.setPos(x, -GAP)
        self.loss_items = self._texts(self.loss_items, count, (0, 0.5))
        for (x, y), item, loss in zip(origins, self.loss_items, self.pictures["loss"]):
            item.setText(f"loss {loss:.3f}", color=theme.plot_foreground)
            item.setPos(x + len(PANELS) * (w + GAP), y + h / 2)
        # room for the titles above and the last block's losses on the right (text is outside the items' bounds)
        self.box.setRange(xRange=(0, picture.shape[1] + LOSS_SPACE * w), yRange=(-0.3 * h, picture.shape[0]),
                          padding=0.02)
        self.caption.setText(f"{self.source} Mean loss {self.pictures['loss'].mean():.4f}. "
                             "Pasted: the reconstruction with the visible patches put back.")

    def _texts(self, items: list[pg.TextItem], count: int, anchor: tuple[float, float]) -> list[pg.TextItem]:
        """``count`` text items in the view: the same ones while the count stays, else made again."""
        if len(items) == count:
            return items
        for item in items:
            self.box.removeItem(item)
        items = [pg.TextItem(anchor=anchor) for _ in range(count)]
        for item in items:
            self.box.addItem(item)
        return items

    def restyle(self) -> None:
        style_canvas(self.canvas)
        self.redraw()
