"""The attention inspector on a real tiny DINO run: heads, threshold, Jaccard and epochs change the picture."""

from __future__ import annotations

import numpy as np
import pytest

from ui.inspect.attention import MEAN, AttentionViewer


@pytest.fixture
def viewer(qtbot, dino_run):
    widget = AttentionViewer()
    qtbot.addWidget(widget)
    widget.resize(900, 700)
    widget.show()
    widget.set_run(dino_run)
    qtbot.waitUntil(lambda: widget.arrays is not None, timeout=20000)
    return widget


def test_it_shows_the_last_epochs_attention_over_the_probe_image(viewer):
    assert viewer.scrubber.epochs == [1, 2] and viewer.scrubber.epoch() == 2
    assert viewer.picture_item.image.shape == (16, 16, 3)
    assert viewer.heat_item.image.shape == (16, 16, 4)
    heads = viewer.arrays["attention"].shape[1]
    assert len(viewer.head_items) == heads + 1  # the mean, then every head
    assert viewer.images.count() == 4
    assert viewer.mass_label.text() == "60 %"
    assert not viewer.notice.isVisible()


def test_choosing_a_head_changes_the_heat_map(viewer):
    mean = viewer.heat_item.image.copy()
    viewer.set_head(0)
    assert viewer.head == 0 and viewer.head_combo.currentText() == "head 1"
    assert not np.array_equal(mean, viewer.heat_item.image)
    viewer.set_head(MEAN)
    assert np.array_equal(mean, viewer.heat_item.image)


def test_the_threshold_keeps_more_patches_as_it_rises(viewer):
    original = viewer.arrays["images"][viewer.image_index].astype(int).sum(axis=2)
    viewer.mass_slider.setValue(20)
    dim_low = (viewer.keep_item.image.astype(int).sum(axis=2) < original).sum()
    viewer.mass_slider.setValue(90)
    dim_high = (viewer.keep_item.image.astype(int).sum(axis=2) < original).sum()
    assert dim_high < dim_low


def test_keeping_all_the_mass_scores_the_object_share_of_the_image(viewer):
    viewer.mass_slider.setValue(100)
    mask = viewer.arrays["masks"][viewer.image_index]
    # every patch kept: intersection = the object, union = the whole image
    assert viewer.jaccard["chosen"] == pytest.approx(mask.mean(), abs=1e-6)
    assert f"{mask.mean():.2f}" in viewer.score.text()


def test_picking_another_image_and_epoch_redraws(viewer, qtbot):
    first = viewer.picture_item.image.copy()
    viewer.images.setCurrentRow(2)
    assert not np.array_equal(first, viewer.picture_item.image)
    late = viewer.heat_item.image.copy()
    viewer.scrubber.set_epoch(1)
    qtbot.waitUntil(lambda: not viewer.tasks.is_busy(), timeout=10000)
    assert not np.array_equal(late, viewer.heat_item.image)
    assert not viewer.scrubber.follow.isChecked()


def test_a_run_without_a_vit_is_named_with_what_the_view_needs(qtbot, simclr_run):
    widget = AttentionViewer()
    qtbot.addWidget(widget)
    widget.show()
    widget.set_run(simclr_run)
    assert widget.content.isHidden()
    assert "simclr on cnn" in widget.notice.text() and "needs a ViT backbone" in widget.notice.text()
    assert not widget.tasks.is_busy()
