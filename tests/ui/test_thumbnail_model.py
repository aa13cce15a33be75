"""The thumbnail grid's model: lazy, off-thread, cached, and cheap for 100 000 images."""

from __future__ import annotations

import torch
from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QListView

from labbench.data.store import ImageSet
from ui.widgets.thumbnail_model import ThumbnailModel


def image_set(n: int, size: int = 8) -> ImageSet:
    # One real image viewed n times: a 100 000-image set without 100 000 images of memory.
    base = torch.arange(3 * size * size, dtype=torch.uint8).reshape(1, 3, size, size)
    return ImageSet(images=base.expand(n, 3, size, size), labels=torch.arange(n) % 3, masks=None,
                    class_names=["a", "b", "c"], name="test")


def grid(model: ThumbnailModel, qtbot) -> QListView:
    view = QListView()
    view.setViewMode(QListView.ViewMode.IconMode)
    view.setUniformItemSizes(True)
    view.setIconSize(QSize(model.thumb_size, model.thumb_size))
    view.setModel(model)
    view.resize(400, 300)
    qtbot.addWidget(view)
    view.show()
    return view


def test_a_hundred_thousand_images_make_only_the_visible_thumbnails(qtbot):
    model = ThumbnailModel(thumb_size=32)
    view = grid(model, qtbot)
    model.set_image_set(image_set(100_000))
    assert model.rowCount() == 100_000
    qtbot.waitUntil(lambda: model.cached_count() > 0, timeout=30000)
    model.loader.wait()
    qtbot.wait(50)
    visible = (400 // 32 + 1) * (300 // 32 + 1)
    assert 0 < model.loader.made <= 4 * visible
    view.scrollToBottom()
    qtbot.waitUntil(lambda: model.has_thumbnail(99_999), timeout=30000)
    assert model.loader.made < 1000


def test_thumbnails_arrive_from_the_worker_and_are_cached(qtbot):
    model = ThumbnailModel(thumb_size=16)
    model.set_image_set(image_set(10))
    index = model.index(3)
    placeholder = model.data(index, Qt.ItemDataRole.DecorationRole)
    with qtbot.waitSignal(model.dataChanged, timeout=30000):
        pass
    thumb = model.data(index, Qt.ItemDataRole.DecorationRole)
    assert thumb is not placeholder and thumb.width() == 16
    made = model.loader.made
    model.data(index, Qt.ItemDataRole.DecorationRole)
    assert model.loader.made == made  # served from the cache


def test_class_filter_keeps_only_that_class_and_counts_every_class(qtbot):
    model = ThumbnailModel()
    model.set_image_set(image_set(10))
    assert model.class_counts() == [4, 3, 3]
    model.set_class_filter(1)
    assert model.rowCount() == 3
    assert [model.dataset_index(r) for r in range(3)] == [1, 4, 7]
    assert model.row_of(4) == 1 and model.row_of(5) == -1
    model.set_class_filter(None)
    assert model.rowCount() == 10


def test_unlabelled_images_are_named_and_not_counted(qtbot):
    model = ThumbnailModel()
    images = image_set(4)
    images.labels[0] = -1
    model.set_image_set(images)
    assert model.data(model.index(0), ThumbnailModel.LabelRole) == "unlabelled"
    assert sum(model.class_counts()) == 3
