"""The MAE inspector on a real tiny MAE run: stored epochs, the mask-ratio slider, re-masking and cancel."""

from __future__ import annotations

import numpy as np
import pytest

from ui.inspect.reconstruction import PANELS, ReconstructionViewer


@pytest.fixture
def viewer(qtbot, mae_run):
    widget = ReconstructionViewer()
    qtbot.addWidget(widget)
    widget.resize(900, 700)
    widget.show()
    widget.set_run(mae_run)
    qtbot.waitUntil(lambda: widget.pictures is not None, timeout=20000)
    return widget


def masked_share(viewer) -> float:
    """Share of pixels the masked panel changed from the original."""
    return float((viewer.pictures["masked"] != viewer.pictures["original"]).any(axis=-1).mean())


def test_it_shows_four_panels_per_probe_image_with_their_losses(viewer):
    rows, cols = 4, len(PANELS)
    assert viewer.mosaic_item.image.shape == (rows * 16 + (rows - 1) * 2, cols * 16 + (cols - 1) * 2, 3)
    assert len(viewer.loss_items) == rows
    assert viewer.loss_items[0].textItem.toPlainText() == f"loss {viewer.pictures['loss'][0]:.3f}"
    assert viewer.caption.text().startswith("Epoch 2")
    assert viewer.ratio_label.text() == "75 %"


def test_the_mask_ratio_slider_reconstructs_with_the_checkpoint(viewer, qtbot):
    viewer.ratio_slider.setValue(25)
    qtbot.waitUntil(lambda: "Latest checkpoint" in viewer.caption.text(), timeout=20000)
    low = masked_share(viewer)
    viewer.ratio_slider.setValue(90)
    qtbot.waitUntil(lambda: "mask ratio 90%" in viewer.caption.text(), timeout=20000)
    assert low < 0.5 < masked_share(viewer)


def test_remask_draws_a_new_mask(viewer, qtbot):
    viewer.remask_button.click()
    qtbot.waitUntil(lambda: "Latest checkpoint" in viewer.caption.text(), timeout=20000)
    first = viewer.pictures["masked"].copy()
    seed = viewer.seed
    viewer.remask_button.click()
    qtbot.waitUntil(lambda: f"mask seed {viewer.seed}" in viewer.caption.text() and viewer.seed != seed,
                    timeout=20000)
    assert not np.array_equal(first, viewer.pictures["masked"])


def test_cancel_keeps_the_picture_on_show(viewer, qtbot):
    viewer.reconstruct_now()
    assert viewer.tasks.cancel_button.isVisible()
    viewer.tasks.cancel_button.click()
    assert not viewer.tasks.is_busy() and viewer.tasks.status.text() == "cancelled"
    qtbot.wait(1000)  # a result arriving after the cancel is dropped
    assert viewer.caption.text().startswith("Epoch 2")


def test_the_scrubber_goes_back_to_a_stored_epoch(viewer, qtbot):
    viewer.ratio_slider.setValue(40)
    qtbot.waitUntil(lambda: "Latest checkpoint" in viewer.caption.text(), timeout=20000)
    viewer.scrubber.set_epoch(1)
    qtbot.waitUntil(lambda: viewer.caption.text().startswith("Epoch 1"), timeout=10000)
    assert viewer.ratio_label.text() == "75 %"
