"""MAE: the encoder sees a quarter of the patches, the loss counts the removed ones, pasting restores the input."""

import math

import pytest
import torch

from labbench.augment import resize_center
from labbench.augment.patches import random_patch_mask
from labbench.config import AugmentConfig, BackboneConfig
from labbench.engine import StepEvent, Trainer
from labbench.errors import ConfigError
from labbench.methods.mae import MAE, MAEConfig, sincos_position_embedding
from labbench.models import patchify
from labbench.run_config import RunConfig, apply_overrides
from tests.methods.conftest import make_tiny, random_images, train_on_fixed_batch


def _mae(image_size=16, patch_size=4, **cfg) -> MAE:
    config = MAEConfig(decoder_depth=1, decoder_width=32, decoder_heads=2, **cfg)
    return make_tiny(MAE, config, backbone=BackboneConfig(name="vit_tiny", patch_size=patch_size, depth=1),
                     image_size=image_size)


@pytest.mark.parametrize("image_size,patch_size,visible,total", [(224, 16, 49, 196), (32, 4, 16, 64)])
def test_mae_encoder_sees_25_percent_of_patches(image_size, patch_size, visible, total):
    method = _mae(image_size, patch_size)
    seen = []
    method.encoder.blocks[0].register_forward_pre_hook(lambda module, args: seen.append(args[0].shape[1]))
    method.training_step(random_images(2, image_size), torch.Generator().manual_seed(0))
    assert method.num_patches == total
    assert seen == [1 + visible]  # the CLS token and the visible patches, nothing else


def test_loss_counts_removed_patches_only():
    method = _mae(norm_pix_loss=True)
    images = random_images(4)
    loss, _ = method.training_step(images, torch.Generator().manual_seed(3))

    views = method.make_views(images, torch.Generator().manual_seed(3))
    mask = views["mask"]
    pred = method.predict_patches(views["view"], mask, method.cfg.mask_ratio)
    target = patchify(views["view"], 4)
    target = (target - target.mean(-1, keepdim=True)) / (target.var(-1, keepdim=True) + 1e-6).sqrt()
    per_patch = (pred - target).pow(2).mean(-1)
    torch.testing.assert_close(loss, per_patch[mask].mean())
    assert not torch.isclose(loss, per_patch[~mask].mean())


def test_pasted_reconstruction_equals_input_at_visible_patches():
    method = _mae(image_size=32)
    images = resize_center(random_images(3, 32), 32)
    out = method.reconstruct(images, mask_ratio=0.75, g=torch.Generator().manual_seed(1))
    visible = ~out["mask"][:, None].expand_as(out["original"])
    assert out["mask"].float().mean().item() == pytest.approx(0.75)
    assert torch.equal(out["pasted"][visible], out["original"][visible])
    assert torch.equal(out["pasted"][~visible], out["reconstruction"][~visible])
    assert (out["masked"][~visible] == 0.5).all()
    assert out["per_image_loss"].shape == (3,) and torch.isfinite(out["per_image_loss"]).all()
    assert all(out[k].min() >= 0 and out[k].max() <= 1 for k in ("original", "reconstruction", "pasted"))


def test_mae_rejects_a_cnn_naming_the_field():
    with pytest.raises(ConfigError, match=r"backbone\.name"):
        MAE(MAEConfig(), BackboneConfig(name="cnn"), AugmentConfig(), 32)


def test_decoder_heads_must_divide_width():
    with pytest.raises(ValueError, match="decoder_heads"):
        MAEConfig(decoder_width=100, decoder_heads=16)


def test_sincos_positions_follow_the_formula():
    pos = sincos_position_embedding(grid=4, dim=8)
    assert pos.shape == (16, 8)
    row, col = 2, 3
    expected_col = [math.sin(col), math.sin(col / 100), math.cos(col), math.cos(col / 100)]
    expected_row = [math.sin(row), math.sin(row / 100), math.cos(row), math.cos(row / 100)]
    torch.testing.assert_close(pos[row * 4 + col], torch.tensor(expected_col + expected_row))


def test_views_are_crop_and_flip_only():
    method = _mae(image_size=32, crop_scale=(1.0, 1.0))
    grey = torch.full((8, 3, 32, 32), 128, dtype=torch.uint8)  # jitter or grayscale would change a grey image's value
    view = method.make_views(grey, torch.Generator().manual_seed(0))["view"]
    torch.testing.assert_close(view, resize_center(grey, 32))


def test_training_on_a_fixed_batch_lowers_the_loss():
    method = _mae()
    images = random_images(8)
    curve, _ = train_on_fixed_batch(method, images, 10, torch.optim.AdamW(method.parameters(), lr=3e-3))
    assert curve[-1] < 0.8 * curve[0]


def test_trainer_runs_mae_steps(tmp_path):
    cfg = apply_overrides(RunConfig(), [
        "data.image_size=16", "data.num_images=80", "backbone.name=vit_tiny", "backbone.patch_size=4",
        "backbone.depth=1", "train.batch_size=16", "train.epochs=1", "train.log_every_steps=1", "train.num_threads=1",
        "optim.name=adamw", "optim.lr=1e-3", "optim.warmup_epochs=0", "method.name=mae", "method.decoder_depth=1",
        "method.decoder_width=32", "method.decoder_heads=2", "eval.max_bank=40", "eval.max_eval=16", "eval.knn_k=5",
    ])
    events = []
    assert Trainer(cfg, [events.append], runs_root=tmp_path).fit().status == "completed"
    losses = [e.loss for e in events if isinstance(e, StepEvent)]
    assert len(losses) == 4 and all(math.isfinite(v) for v in losses)


def test_preview_shows_original_and_masked_input():
    method = _mae(image_size=32)
    panels = method.preview(random_images(1, 32)[0], torch.Generator().manual_seed(0))
    assert [p.group for p in panels] == ["views", "masked"]
    assert "48 of 64 patches removed" in panels[1].title
    grey = (panels[1].image == 0.5).all(axis=2)
    assert grey.mean() >= 0.75  # at least the removed patches (a visible pixel may be grey by chance)
    assert all(p.image.shape == (32, 32, 3) for p in panels)


def test_state_round_trip_gives_the_same_reconstruction():
    method = _mae()
    method.training_step(random_images(4), torch.Generator().manual_seed(0))[0].backward()
    with torch.no_grad():
        for p in method.parameters():
            p.add_(0.01)
    copy = _mae()
    copy.load_state_dict(method.state_dict())
    view = resize_center(random_images(4), 16)
    mask = random_patch_mask(4, 16, 0.75, torch.Generator().manual_seed(0))
    torch.testing.assert_close(method.predict_patches(view, mask, 0.75), copy.predict_patches(view, mask, 0.75))
