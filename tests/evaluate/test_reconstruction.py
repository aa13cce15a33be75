"""MAE reconstructions: four pictures per image, the visible patches pasted back exactly, mask control."""

import numpy as np
import pytest
import torch

from labbench.data import load_split
from labbench.engine.checkpointed import load_run_method
from labbench.errors import ConfigError
from labbench.evaluate.reconstruction import reconstruct


@pytest.fixture(scope="module")
def mae(mae_run):
    method, config = load_run_method(mae_run)
    return method, load_split(config.data).eval.images[:4]


def test_pasted_equals_the_input_at_visible_patches(mae):
    method, images = mae
    rec = reconstruct(method, images)
    visible = ~rec.mask
    assert np.allclose(rec.pasted[visible], rec.original[visible])
    assert np.allclose(rec.pasted[rec.mask], rec.reconstruction[rec.mask])
    assert np.allclose(rec.masked[rec.mask], 0.5)  # removed patches are shown grey


def test_pictures_are_images_in_unit_range_with_a_loss_per_image(mae):
    method, images = mae
    rec = reconstruct(method, images)
    for picture in (rec.original, rec.masked, rec.reconstruction, rec.pasted):
        assert picture.shape == (4, 16, 16, 3) and picture.min() >= 0 and picture.max() <= 1
    assert rec.per_image_loss.shape == (4,) and np.isfinite(rec.per_image_loss).all()
    assert np.allclose(rec.original, images.permute(0, 2, 3, 1).numpy() / 255, atol=1e-5)


def test_mask_ratio_sets_the_removed_share_and_a_new_seed_remasks(mae):
    method, images = mae
    half = reconstruct(method, images, mask_ratio=0.5)
    assert half.mask.mean(axis=(1, 2)).tolist() == [0.5] * 4
    assert reconstruct(method, images).mask.mean() == 0.75  # the run's own ratio
    assert not np.array_equal(half.mask, reconstruct(method, images, mask_ratio=0.5, seed=1).mask)
    assert np.array_equal(half.mask, reconstruct(method, images, mask_ratio=0.5).mask)


def test_a_method_without_a_decoder_is_refused(simclr_run):
    method, _ = load_run_method(simclr_run)
    with pytest.raises(ConfigError, match="masked-image model such as MAE; method.name is simclr"):
        reconstruct(method, torch.zeros(1, 3, 16, 16, dtype=torch.uint8))
