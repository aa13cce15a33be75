"""Dataset browser: pick a source, scroll its images, filter by class, inspect one image.

Loading runs off the GUI thread (the dock shows a busy bar); the grid is a virtualised QListView
over :class:`~ui.widgets.thumbnail_model.ThumbnailModel`, so a set of 100 000 images scrolls as
smoothly as one of 100. A folder that cannot be read leaves the previous dataset in place and says
which files are at fault.
"""

from __future__ import annotations

from pathlib import Path

import torch
from PySide6.QtCore import QItemSelectionModel, QSize, Qt, Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDockWidget, QFileDialog, QHBoxLayout, QListView, QProgressBar, QSplitter,
    QVBoxLayout, QWidget,
)

from labbench.config import DataConfig
from labbench.data import ImageSet, Split, folder_source, load_split
from labbench.errors import DataError, LabbenchError
from labbench.run_config import RunConfig
from labbench.sources import SOURCES, Source
from ui.state import ConfigState
from ui.tasks import TaskRunner
from ui.widgets.image_view import ImageView, mask_to_qimage, tensor_to_qimage
from ui.widgets.labels import wrapping_label
from ui.widgets.thumbnail_model import ThumbnailModel

THUMB_SIZE = 64
#: sources whose ``data.num_images`` is how many to make, not a cap on what is there
GENERATED = ("shapes", "photos")


def menu_text(source: Source) -> str:
    """How the source menu lists a source; "…" marks those that ask for a folder."""
    if source.kind == "built-in":
        return f"{source.title} (built-in{', with masks' if source.masks else ''})"
    return f"{source.title} (local folder)…" if source.kind == "dataset" else f"{source.title}…"


def load_named(cfg: DataConfig) -> Split:
    """``load_split`` whose errors name the folder (or source) they are about."""
    where = cfg.root or cfg.source
    try:
        return load_split(cfg)
    except LabbenchError as err:
        message = str(err)
    except Exception as err:  # noqa: BLE001 — any reader failure must reach the person as text
        message = f"could not be loaded ({type(err).__name__}: {err})"
    raise DataError(message if where in message else f"{where}: {message}")


def cap_note(cfg: DataConfig, shown: int) -> str:
    """What to say when a set that has more images was cut to ``data.num_images`` ('' when it was not)."""
    if cfg.source in GENERATED or cfg.num_images <= 0 or shown < cfg.num_images:
        return ""
    return (f"capped at data.num_images = {cfg.num_images:,}: set it to 0 on the Data tab of the "
            "Method configuration to use every image")


class DatasetBrowser(QDockWidget):
    """The images of the configured data source; selecting one sends it to the preview."""

    image_selected = Signal(object, str)   # uint8 3×H×W tensor, caption
    message = Signal(str, str)             # text, level ("info" | "warning" | "error")
    loading_changed = Signal(bool)
    dataset_loaded = Signal(object)        # ImageSet shown in the grid

    def __init__(self, state: ConfigState, parent: QWidget | None = None) -> None:
        super().__init__("Dataset", parent)
        self.setObjectName("dataset_browser")
        self.state = state
        self.loaded_cfg: DataConfig | None = None
        self._pending: DataConfig | None = None
        self._loader = TaskRunner(self, latest_wins=True)

        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        row = QHBoxLayout()
        self.source_combo = QComboBox()
        for name, source in SOURCES.items():
            self.source_combo.addItem(menu_text(source), name)
        self.source_combo.setToolTip("Where the images come from; sets marked … read a folder you choose")
        self.source_combo.activated.connect(self._source_chosen)
        self.class_combo = QComboBox()
        self.class_combo.setToolTip("Show only one class")
        self.class_combo.currentIndexChanged.connect(self._class_chosen)
        row.addWidget(self.source_combo, 2)
        row.addWidget(self.class_combo, 1)
        layout.addLayout(row)
        self.root_label = wrapping_label(role="muted")
        self.root_label.hide()
        layout.addWidget(self.root_label)
        busy = QHBoxLayout()
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)  # indeterminate
        self.busy.setMaximumHeight(10)
        self.busy.setTextVisible(False)
        self.status = wrapping_label(role="muted")
        busy.addWidget(self.status, 1)
        busy.addWidget(self.busy)
        layout.addLayout(busy)
        self.busy.hide()

        self.model = ThumbnailModel(THUMB_SIZE, parent=self)
        self.view = QListView()
        self.view.setViewMode(QListView.ViewMode.IconMode)
        self.view.setUniformItemSizes(True)  # no per-item size queries: O(visible) layout
        self.view.setLayoutMode(QListView.LayoutMode.Batched)
        self.view.setBatchSize(2000)
        self.view.setMovement(QListView.Movement.Static)
        self.view.setResizeMode(QListView.ResizeMode.Adjust)
        self.view.setIconSize(QSize(THUMB_SIZE, THUMB_SIZE))
        self.view.setGridSize(QSize(THUMB_SIZE + 8, THUMB_SIZE + 8))
        self.view.setSpacing(0)
        self.view.setModel(self.model)
        self.view.selectionModel().currentChanged.connect(self._current_changed)

        inspector = QWidget()
        ins = QVBoxLayout(inspector)
        ins.setContentsMargins(0, 0, 0, 0)
        self.image_view = ImageView(min_side=120)
        self.info = wrapping_label()
        self.mask_check = QCheckBox("Show mask")
        self.mask_check.setToolTip("Overlay the object mask (sources that know their masks, e.g. shapes)")
        self.mask_check.toggled.connect(self.image_view.set_overlay_visible)
        info_row = QHBoxLayout()
        info_row.addWidget(self.info, 1)
        info_row.addWidget(self.mask_check)
        ins.addWidget(self.image_view, 1)
        ins.addLayout(info_row)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.view)
        splitter.addWidget(inspector)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout.addWidget(splitter, 1)
        self.setWidget(body)
        state.changed.connect(self._config_changed)

    # -- loading ---------------------------------------------------------------------------
    def load(self, cfg: DataConfig | None = None) -> None:
        """Load ``cfg`` (default: the window's data config) off the GUI thread."""
        cfg = cfg or self.state.config.data
        self._pending = cfg
        self._loader.submit(lambda _progress: load_named(cfg), lambda split: self._on_loaded(cfg, split),
                            failed=self._on_failed)
        self.status.setText(f"Loading {menu_text(SOURCES[cfg.source]).rstrip('…')}…")
        self.busy.show()
        self.loading_changed.emit(True)

    def load_source(self, source: str, root: str | None = None) -> None:
        """Switch to another source; the config follows once it has loaded. A packed folder opens as its shards."""
        if source == "folder" and root:
            source = folder_source(root)
        self.load(self.state.config.data.model_copy(update={"source": source, "root": root}))

    def is_loading(self) -> bool:
        return self._pending is not None

    def wait(self) -> None:
        """Block until the queued load finished (its result still arrives as a signal)."""
        self._loader.wait()

    @Slot(int)
    def _source_chosen(self, _index: int) -> None:
        source = self.source_combo.currentData()
        if SOURCES[source].reads_a_folder:
            start = self.state.config.data.root or str(Path.home())
            title = "Choose an image folder" if source == "folder" else f"Choose the local {source} folder"
            root = QFileDialog.getExistingDirectory(self, title, start)
            if not root:
                self._show_source(self.loaded_cfg)
                return
            self.load_source(source, root)
        else:
            self.load_source(source)

    @Slot(object)
    def _config_changed(self, config: RunConfig) -> None:
        # Size or count edited in the configuration dock: the browser shows what training will use.
        if self.loaded_cfg is not None and config.data != self.loaded_cfg and not self.is_loading():
            self.load(config.data)

    def _on_loaded(self, cfg: DataConfig, split: Split) -> None:
        self._pending = None
        self.loaded_cfg = cfg
        self.busy.hide()
        self.loading_changed.emit(False)
        images = split.train
        for path, reason in images.skipped + split.eval.skipped:
            self.message.emit(f"skipped {path}: {reason}", "warning")
        streamed = " (streamed: decoded as shown)" if images.streamed else ""
        self.status.setText(f"{len(images)} training images{streamed} · {len(split.eval)} held out · {cfg.image_size} px")
        if (note := cap_note(cfg, len(images) + len(split.eval))):
            self.status.setText(f"{self.status.text()} · {note}")
            self.message.emit(f"{cfg.root or cfg.source}: {note}", "info")
        self.model.set_image_set(images)
        self._fill_classes(images)
        self._show_source(cfg)
        self.message.emit(f"dataset {images.name}: {len(images)} training images", "info")
        self.state.update("data", {"source": cfg.source, "root": cfg.root})
        self.dataset_loaded.emit(images)
        if self.model.rowCount():
            self.select_row(0)
        if self.state.config.data != cfg:  # size or count edited while this was loading
            self.load()

    def _on_failed(self, message: str) -> None:
        self._pending = None
        self.busy.hide()
        self.loading_changed.emit(False)
        self.status.setText("Could not load the dataset; the previous one is still shown")
        self._show_source(self.loaded_cfg)
        self.message.emit(message, "error")

    def _show_source(self, cfg: DataConfig | None) -> None:
        if cfg is None:
            return
        self.source_combo.setCurrentIndex(self.source_combo.findData(cfg.source))
        self.root_label.setText(cfg.root or "")
        self.root_label.setVisible(bool(cfg.root))

    def _fill_classes(self, images: ImageSet) -> None:
        self.class_combo.blockSignals(True)
        self.class_combo.clear()
        self.class_combo.addItem(f"All classes ({len(images)})", None)
        for i, count in enumerate(self.model.class_counts()):
            self.class_combo.addItem(f"{images.class_names[i]} ({count})", i)
        self.class_combo.setEnabled(images.labels is not None)
        self.class_combo.blockSignals(False)

    # -- selection -------------------------------------------------------------------------
    @Slot(int)
    def _class_chosen(self, _index: int) -> None:
        self.model.set_class_filter(self.class_combo.currentData())
        if self.model.rowCount():
            self.select_row(0)

    def set_class_filter(self, class_id: int | None) -> None:
        self.class_combo.setCurrentIndex(self.class_combo.findData(class_id))

    def select_row(self, row: int) -> None:
        index = self.model.index(row)
        self.view.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self.view.scrollTo(index)

    def current_image(self) -> tuple[int, torch.Tensor] | None:
        index = self.view.currentIndex()
        images = self.model.image_set()
        if not index.isValid() or images is None:
            return None
        i = self.model.dataset_index(index.row())
        return i, images.images[i]

    @Slot(object, object)
    def _current_changed(self, current, _previous) -> None:
        images = self.model.image_set()
        if not current.isValid() or images is None:
            return
        i = self.model.dataset_index(current.row())
        image = images.images[i].clone()  # the preview thread gets its own copy
        label = self.model.data(current, ThumbnailModel.LabelRole)
        overlay = None
        if images.masks is not None:
            overlay = mask_to_qimage(images.masks[i], QColor(255, 64, 160))
        self.mask_check.setEnabled(overlay is not None)
        self.image_view.set_image(tensor_to_qimage(image), overlay)
        self.image_view.set_overlay_visible(self.mask_check.isChecked())
        h, w = image.shape[1:]
        where = f" · {Path(images.paths[i]).name}" if images.paths else ""
        self.info.setText(f"#{i} · {label or 'unlabelled'} · {w}×{h} px{where}")
        self.image_selected.emit(image, f"#{i} {label}".strip())
