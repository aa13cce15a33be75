"""A list model of dataset images whose thumbnails are made lazily, off the GUI thread, and cached.

The view asks for a thumbnail only when a row becomes visible; the request becomes a task of a
:class:`~ui.tasks.TaskRunner` that serves the newest requests first (fast scrolling leaves old
ones behind), and the finished QImage comes back on the GUI thread. Nothing is made up front, so 100 000 images
cost one index array, not 100 000 pixmaps.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import torch
from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPixmap

from ui.tasks import TaskRunner
from ui.widgets.image_view import tensor_to_qimage

if TYPE_CHECKING:
    from labbench.data import ImageSet


class ThumbnailLoader(QObject):
    """Makes thumbnails of ``images[i]`` off the GUI thread, newest request first; at most
    ``max_pending`` wait, the oldest are dropped (scrolled past long ago)."""

    def __init__(self, size: int, max_pending: int = 1024, workers: int = 2, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.size = size
        self.made = 0
        self._images: torch.Tensor | None = None
        self.runner = TaskRunner(self, max_running=workers, newest_first=True, max_pending=max_pending)

    def set_images(self, images: torch.Tensor | None) -> None:
        """Start over with another set of images; thumbnails of the old set are never delivered."""
        self.runner.cancel_all()
        self._images = images

    def request(self, index: int, ready: Callable[[QImage], None], dropped: Callable[[], None]) -> None:
        """Make the thumbnail of ``index``: ``ready(image)``, or ``dropped()`` when it never will be."""
        images = self._images
        self.runner.submit(lambda _progress: self._make(images[index]), ready, cancelled=dropped)

    def wait(self) -> None:
        """Block until every queued thumbnail is made (tests, shutdown)."""
        self.runner.wait()

    def _make(self, image: torch.Tensor) -> QImage:
        qimage = tensor_to_qimage(image)
        # Tiny images are enlarged with sharp pixels; large photos are shrunk smoothly.
        mode = (
            Qt.TransformationMode.FastTransformation
            if max(qimage.width(), qimage.height()) <= self.size
            else Qt.TransformationMode.SmoothTransformation
        )
        self.made += 1
        return qimage.scaled(self.size, self.size, Qt.AspectRatioMode.KeepAspectRatio, mode)


class ThumbnailModel(QAbstractListModel):
    """Rows are the dataset images that pass the class filter; decoration is the thumbnail."""

    DatasetIndexRole = Qt.ItemDataRole.UserRole + 1
    LabelRole = Qt.ItemDataRole.UserRole + 2

    def __init__(self, thumb_size: int = 64, cache_size: int = 4096, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thumb_size = thumb_size
        self.loader = ThumbnailLoader(thumb_size, parent=self)
        self._generation = 0  # which image set a thumbnail belongs to
        self._images: ImageSet | None = None
        self._rows = np.zeros(0, dtype=np.int64)
        self._cache: OrderedDict[int, QPixmap] = OrderedDict()
        self._cache_size = cache_size
        self._requested: set[int] = set()
        self._placeholder = QPixmap(thumb_size, thumb_size)
        self._placeholder.fill(QColor(128, 128, 128, 60))

    # -- contents --------------------------------------------------------------------------
    def image_set(self) -> ImageSet | None:
        return self._images

    def set_image_set(self, images: ImageSet | None) -> None:
        self.beginResetModel()
        self._images = images
        self._cache.clear()
        self._requested.clear()
        self._generation += 1
        self.loader.set_images(images.images if images is not None else None)
        self._rows = np.arange(len(images), dtype=np.int64) if images is not None else np.zeros(0, dtype=np.int64)
        self.endResetModel()

    def set_class_filter(self, class_id: int | None) -> None:
        """Show only images of ``class_id`` (None: all)."""
        if self._images is None:
            return
        self.beginResetModel()
        if class_id is None or self._images.labels is None:
            self._rows = np.arange(len(self._images), dtype=np.int64)
        else:
            self._rows = np.flatnonzero(self._images.labels.numpy() == class_id).astype(np.int64)
        self.endResetModel()

    def class_counts(self) -> list[int]:
        """Images per class (empty when the set has no labels)."""
        if self._images is None or self._images.labels is None:
            return []
        labels = self._images.labels
        counts = torch.bincount(labels[labels >= 0], minlength=len(self._images.class_names))  # -1: no class
        return counts.tolist()

    def dataset_index(self, row: int) -> int:
        return int(self._rows[row])

    def row_of(self, dataset_index: int) -> int:
        """The row showing ``dataset_index``, or -1 when it is filtered out."""
        row = int(np.searchsorted(self._rows, dataset_index))
        return row if row < len(self._rows) and self._rows[row] == dataset_index else -1

    def cached_count(self) -> int:
        return len(self._cache)

    def has_thumbnail(self, dataset_index: int) -> bool:
        return dataset_index in self._cache

    # -- Qt model --------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or self._images is None:
            return None
        i = int(self._rows[index.row()])
        if role == Qt.ItemDataRole.DecorationRole:
            return self._thumbnail(i)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"#{i}  {self._label_name(i)}".strip()
        if role == self.DatasetIndexRole:
            return i
        if role == self.LabelRole:
            return self._label_name(i)
        if role == Qt.ItemDataRole.SizeHintRole:
            return QSize(self.thumb_size + 8, self.thumb_size + 8)
        return None

    def _label_name(self, i: int) -> str:
        if self._images is None or self._images.labels is None:
            return ""
        label = int(self._images.labels[i])
        names = self._images.class_names
        if label < 0:
            return "unlabelled"
        return names[label] if label < len(names) else str(label)

    def _thumbnail(self, i: int) -> QPixmap:
        pixmap = self._cache.get(i)
        if pixmap is not None:
            self._cache.move_to_end(i)
            return pixmap
        if i not in self._requested:
            self._requested.add(i)
            generation = self._generation
            # dropped (scrolled past long ago): asked again if it comes back into view
            self.loader.request(i, lambda image: self._on_ready(i, image),
                                lambda: generation == self._generation and self._requested.discard(i))
        return self._placeholder

    def _on_ready(self, i: int, image: QImage) -> None:
        self._requested.discard(i)
        self._cache[i] = QPixmap.fromImage(image)
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        row = self.row_of(i)
        if row >= 0:
            idx = self.index(row)
            self.dataChanged.emit(idx, idx, [Qt.ItemDataRole.DecorationRole])
