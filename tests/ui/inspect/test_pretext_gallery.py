"""The pretext-task gallery: every pretext method's own preview of one image, side by side."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from labbench.data import load_split
from labbench.methods import build_method
from labbench.run_config import RunConfig, apply_overrides
from ui.docks.augmentation_preview import order_panels
from ui.inspect.pretext_gallery import PRETEXT_METHODS, PretextGallery, pretext_config


@pytest.fixture(scope="module")
def image() -> torch.Tensor:
    cfg = apply_overrides(RunConfig(), ["data.source=shapes", "data.image_size=32", "data.num_images=20"])
    return load_split(cfg.data).train.images[3]


@pytest.fixture
def gallery(qtbot, image):
    widget = PretextGallery()
    qtbot.addWidget(widget)
    widget.resize(1000, 800)
    widget.show()
    widget.set_image(image, "shapes #3")
    qtbot.waitUntil(lambda: bool(widget.previews), timeout=30000)
    return widget


def test_every_pretext_task_is_drawn_by_its_own_preview(gallery, image):
    assert list(gallery.previews) == list(PRETEXT_METHODS)
    for name in PRETEXT_METHODS:
        method = build_method(pretext_config(name, 32)).eval()
        with torch.inference_mode():
            own = method.preview(image, torch.Generator().manual_seed(0))
        titles = [p.title for _g, panels in order_panels(own) for p in panels]
        column = gallery.columns[name]
        assert [c.text() for c in column.captions] == titles
        assert all(not p.pixmap().isNull() for p in column.pictures)


def test_reroll_draws_new_random_views(gallery, qtbot):
    before = {name: [p.image.copy() for p in panels] for name, panels in gallery.previews.items()}
    gallery.reroll_button.click()
    qtbot.waitUntil(lambda: not gallery.tasks.is_busy(), timeout=30000)
    changed = [name for name, panels in gallery.previews.items()
               if any(not np.array_equal(a, p.image) for a, p in zip(before[name], panels))]
    assert "jigsaw" in changed or "relative_patch" in changed


def test_an_image_chosen_while_hidden_is_drawn_when_shown(qtbot, image):
    widget = PretextGallery()
    qtbot.addWidget(widget)
    widget.set_image(image)
    assert not widget.tasks.is_busy()  # hidden docks do no work
    widget.show()
    qtbot.waitUntil(lambda: bool(widget.previews), timeout=30000)
