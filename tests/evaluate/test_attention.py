"""Attention maps: CLS→patch maps per head, DINO's mass threshold, Jaccard against object masks."""

import pytest
import torch

from labbench.data import load_split
from labbench.engine.checkpointed import load_run_method
from labbench.errors import ConfigError
from labbench.evaluate.attention import (
    attention_backbone, attention_jaccard, attention_maps, jaccard, keep_mass, upsample,
)


def test_threshold_keeps_the_top_patches_that_hold_the_mass():
    maps = torch.tensor([[0.05, 0.3], [0.5, 0.15]])
    assert keep_mass(maps, 0.6).tolist() == [[False, True], [True, False]]  # 0.5 + 0.3 ≥ 0.6
    assert keep_mass(maps, 0.45).tolist() == [[False, False], [True, False]]


@pytest.mark.parametrize("fraction", [0.1, 0.6, 0.9, 1.0])
def test_kept_mass_is_at_least_the_requested_share_and_minimal(fraction):
    maps = torch.rand(50, 3, 6, 6, generator=torch.Generator().manual_seed(0), dtype=torch.float64) ** 3
    keep = keep_mass(maps, fraction)
    share = (maps * keep).sum((-2, -1)) / maps.sum((-2, -1))
    assert (share >= fraction - 1e-6).all()
    # minimal: dropping the weakest kept patch falls below the requested share
    weakest = torch.where(keep, maps, torch.inf).flatten(-2).min(-1).values
    assert ((share - weakest / maps.sum((-2, -1))) < fraction).all()


def test_jaccard_is_one_for_equal_masks_and_zero_for_disjoint_ones():
    a = torch.zeros(2, 4, 4, dtype=torch.bool)
    a[:, :2] = True
    assert jaccard(a, a).tolist() == [1.0, 1.0]
    assert jaccard(a, ~a).tolist() == [0.0, 0.0]


def test_dino_maps_come_from_the_teacher_per_head_at_patch_and_pixel_resolution(dino_run):
    method, config = load_run_method(dino_run)
    assert attention_backbone(method) is method.teacher.backbone
    images = load_split(config.data).eval.images[:5]
    maps = attention_maps(method, images)
    assert maps.heads.shape == (5, 3, 4, 4)  # vit_tiny: 3 heads; 16 px / 4 px patches
    total = maps.heads.sum((-2, -1))
    assert (maps.heads >= 0).all() and (total <= 1 + 1e-5).all() and (total > 0).all()
    assert maps.upsampled().shape == (5, 3, 16, 16) and maps.upsampled(maps.mean).shape == (5, 16, 16)
    # each patch becomes a 4×4 block of the same value
    assert torch.equal(maps.upsampled()[..., ::4, ::4], maps.heads)


def test_jaccard_against_the_shapes_masks_is_a_share(dino_run):
    method, config = load_run_method(dino_run)
    eval_set = load_split(config.data).eval
    scores = attention_jaccard(attention_maps(method, eval_set.images[:6]), eval_set.masks[:6])
    assert scores.mean_map.shape == (6,) and scores.heads.shape == (6, 3)
    assert ((scores.heads >= 0) & (scores.heads <= 1)).all()
    assert (scores.best_head >= scores.heads.min(dim=1).values).all()


def test_a_cnn_run_is_refused_with_its_backbone_named(simclr_run):
    method, _ = load_run_method(simclr_run)
    with pytest.raises(ConfigError, match="attention maps need a ViT backbone; backbone.name is cnn"):
        attention_maps(method, torch.zeros(1, 3, 16, 16, dtype=torch.uint8))


def test_upsampling_a_bool_mask_stays_bool():
    assert upsample(torch.ones(2, 4, 4, dtype=torch.bool), 8).dtype == torch.bool
