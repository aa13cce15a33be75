"""Baselines (the same backbone untrained, raw pixels) and end-to-end fine-tuning of a copy."""

import torch

from labbench.data import ImageSet
from labbench.engine.checkpointed import load_run_method
from labbench.evaluate.baselines import pixel_features, random_init_encoder, random_init_method
from labbench.evaluate.finetune import finetune
from labbench.run_config import apply_overrides, RunConfig


def _colour_set(n: int, seed: int) -> ImageSet:
    """Red or blue squares on grey noise: a labelling any encoder can learn in a few steps."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 2
    images = torch.randint(100, 140, (n, 3, 16, 16), generator=g, dtype=torch.uint8)
    images[labels == 0, 0, 4:12, 4:12] = 250
    images[labels == 1, 2, 4:12, 4:12] = 250
    return ImageSet(images, labels, None, ["red", "blue"], "colours")


def test_random_init_encoder_is_the_runs_backbone_fresh_and_seeded():
    cfg = apply_overrides(RunConfig(), ["backbone.name=cnn", "backbone.width=8", "data.image_size=16"])
    a, b = random_init_encoder(cfg, seed=3), random_init_encoder(cfg, seed=3)
    assert type(a).__name__ == "SmallCNN" and a.feature_dim == 64 and not a.training
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    # the whole method, fresh: the protocol's baseline embeds through the method's own embed
    method = random_init_method(cfg, seed=3)
    assert not method.training and torch.equal(method.encoder.features[0].weight, a.features[0].weight)


def test_pixel_features_are_the_flattened_normalised_image():
    images = torch.randint(0, 256, (5, 3, 16, 16), dtype=torch.uint8)
    assert pixel_features(images, 16).shape == (5, 3 * 16 * 16)


def test_finetune_learns_an_easy_labelling_and_leaves_the_run_encoder_untouched(simclr_run):
    method, _ = load_run_method(simclr_run)
    before = {k: v.clone() for k, v in method.encoder.state_dict().items()}
    result = finetune(method.encoder, _colour_set(128, 0), _colour_set(64, 1), 16, epochs=6, batch_size=16, lr=3e-3)
    assert result.accuracy >= 0.9 and len(result.epoch_losses) == 6
    assert result.epoch_losses[-1] < result.epoch_losses[0]
    assert all(torch.equal(v, before[k]) for k, v in method.encoder.state_dict().items())
