"""Dataset browser: pick a source, scroll its images, filter by class, inspect one image.

Loading runs off the GUI thread (the dock shows a busy bar); the grid is a virtualised QListView
over :class:`~ui.widgets.thumbnail_model.ThumbnailModel`, so a set of 100 000 images scrolls as
smoothly as one of 100. A folder that cannot be read leaves the previous dataset in place and says
which files are at fault.
"""

from __future__ import annotations

from pathlib import Path

import torch
from PySide6.QtCore import QItemSelectionModel, QObject, QRunnable, QSize, Qt, QThreadPool, Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDockWidget, QFileDialog, QHBoxLayout, QLabel, QListView, QProgressBar, QSplitter,
    QVBoxLayout, QWidget,
)

from labbench.config import DataConfig
from labbench.data import ImageSet, Split, folder_source, load_split
from labbench.errors import LabbenchError
from labbench.run_config import RunConfig
from labbench.sources import SOURCES, Source
from ui.state import ConfigState
from ui.widgets.image_view import ImageView, mask_to_qimage, tensor_to_qimage
from ui.widgets.thumbnail_model import ThumbnailModel

THUMB_SIZE = 64


def menu_text(source: Source) -> str:
    """How the source menu lists a source; "…" marks those that ask for a folder."""
    if source.kind == "built-in":
        return f"{source.title} (built-in{', with masks' if source.masks else ''})"
    return f"{source.title} (local folder)…" if source.kind == "dataset" else f"{source.title}…"


class _LoadJob(QRunnable):
    """``load_split`` in a pool thread; the result comes back through the loader's signals."""

    def __init__(self, loader: DatasetLoader, request_id: int, cfg: DataConfig) -> None:
        super().__init__()
        self.loader, self.request_id, self.cfg = loader, request_id, cfg

    def run(self) -> None:
        try:
            split = load_split(self.cfg)
        except LabbenchError as err:
            self.loader.failed.emit(self.request_id, self._where(str(err)))
        except Exception as err:  # noqa: BLE001 — any reader failure must reach the person as text
            self.loader.failed.emit(self.request_id, self._where(f"could not be loaded ({type(err).__name__}: {err})"))
        else:
            self.loader.loaded.emit(self.request_id, self.cfg, split)

    def _where(self, message: str) -> str:
        """The message, led by the folder it is about when it does not name it already."""
        where = self.cfg.root or self.cfg.source
        return message if where in message else f"{where}: {message}"


class DatasetLoader(QObject):
    """Loads data sources in a background thread; only the newest request's result is used."""

    loaded = Signal(int, object, object)  # request id, DataConfig, Split
    failed = Signal(int, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self.latest = 0

    def load(self, cfg: DataConfig) -> int:
        self.latest += 1
        self._pool.start(_LoadJob(self, self.latest, cfg))
        return self.latest

    def wait(self) -> None:
        self._pool.waitForDone()


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
        self._loader = DatasetLoader(self)
        self._loader.loaded.connect(self._on_loaded)
        self._loader.failed.connect(self._on_failed)

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
        self.root_label = QLabel()
        self.root_label.setProperty("role", "muted")
        self.root_label.setWordWrap(True)
        self.root_label.hide()
        layout.addWidget(self.root_label)
        busy = QHBoxLayout()
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)  # indeterminate
        self.busy.setMaximumHeight(10)
        self.busy.setTextVisible(False)
        self.status = QLabel()
        self.status.setProperty("role", "muted")
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
        self.info = QLabel()
        self.info.setWordWrap(True)
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
        self._loader.load(cfg)
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

    @Slot(int, object, object)
    def _on_loaded(self, request_id: int, cfg: DataConfig, split: Split) -> None:
        if request_id != self._loader.latest:
            return
        self._pending = None
        self.loaded_cfg = cfg
        self.busy.hide()
        self.loading_changed.emit(False)
        images = split.train
        for path, reason in images.skipped + split.eval.skipped:
            self.message.emit(f"skipped {path}: {reason}", "warning")
        streamed = " (streamed: decoded as shown)" if images.streamed else ""
        self.status.setText(f"{len(images)} training images{streamed} · {len(split.eval)} held out · {cfg.image_size} px")
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

    @Slot(int, str)
    def _on_failed(self, request_id: int, message: str) -> None:
        if request_id != self._loader.latest:
            return
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
