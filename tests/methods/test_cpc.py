"""CPC: positives on the score diagonal, a causal context, patches encoded one by one."""

import math

import pytest
import torch

from labbench import losses
from labbench.augment import resize_center
from labbench.augment.patches import patch_grid
from labbench.config import AugmentConfig, BackboneConfig
from labbench.engine import StepEvent, Trainer
from labbench.errors import ConfigError
from labbench.methods.cpc import CPC, CPCConfig, MaskedConvContext, RowGRU, row_pairs
from labbench.run_config import RunConfig, apply_overrides
from tests.methods.conftest import make_tiny, random_images, train_on_fixed_batch


def _cpc(image_size=16, horizon=2, **cfg) -> CPC:
    return make_tiny(CPC, CPCConfig(horizon=horizon, **cfg), image_size=image_size)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_positives_sit_on_the_score_diagonal(k):
    batch, rows, cols = 2, 4, 4
    codes = torch.arange(batch * rows * cols).reshape(batch, rows, cols)
    one_hot = torch.nn.functional.one_hot(codes, batch * rows * cols).float()  # B×R×C×D
    z = one_hot.permute(0, 3, 1, 2)
    # a perfect context at (r, j) names the patch k rows below it
    context = torch.zeros_like(z)
    context[:, :, : rows - k] = z[:, :, k:]
    contexts, targets = row_pairs(context, z, k)
    assert contexts.shape == targets.shape == (batch, (rows - k) * cols, batch * rows * cols)
    scores = contexts.flatten(0, 1) @ targets.flatten(0, 1).T
    torch.testing.assert_close(scores, torch.eye(scores.shape[0]))
    assert losses.cpc_info_nce(20 * contexts, targets) < 1e-6


@pytest.mark.parametrize("context", [RowGRU(6, 5), MaskedConvContext(6, 5, rows=7)], ids=["gru", "masked_conv"])
def test_context_of_row_r_ignores_every_row_below_r(context):
    torch.manual_seed(0)
    z = torch.randn(2, 6, 7, 7)
    before = context(z)
    for changed in (1, 4, 6):
        altered = z.clone()
        altered[:, :, changed] += torch.randn(2, 6, 7)
        after = context(altered)
        assert torch.equal(after[:, :, :changed], before[:, :, :changed])
        assert not torch.allclose(after[:, :, changed], before[:, :, changed])


def test_context_of_the_last_row_reaches_the_first_row():
    for context in (RowGRU(6, 5), MaskedConvContext(6, 5, rows=7)):
        z = torch.randn(1, 6, 7, 7)
        altered = z.clone()
        altered[:, :, 0] += 1.0
        assert not torch.allclose(context(altered)[:, :, -1], context(z)[:, :, -1])


def test_patches_are_encoded_one_by_one():
    method = _cpc()
    method.eval()  # batch norm in eval mode: no statistics shared between patches
    view = resize_center(random_images(2), 16)
    patches = patch_grid(view, 7, 0.5)
    assert patches.shape[-1] == method.patch_size == 4
    z = method.encode_grid(patches)
    torch.testing.assert_close(z[1, :, 3, 5], method.encoder(patches[1, 3, 5][None])[0])
    torch.testing.assert_close(method.embed(view), z.mean(dim=(2, 3)))


def test_vit_patch_size_must_divide_the_cpc_patch():
    with pytest.raises(ConfigError, match=r"backbone\.patch_size"):
        CPC(CPCConfig(), BackboneConfig(name="vit_tiny", patch_size=3, depth=1), AugmentConfig(), 32)


def test_horizon_must_stay_inside_the_grid():
    with pytest.raises(ValueError, match="horizon"):
        CPCConfig(grid_size=5, horizon=5)


def test_training_on_a_fixed_batch_lowers_the_loss():
    method = _cpc()
    images = random_images(8)
    curve, history = train_on_fixed_batch(method, images, 10, torch.optim.AdamW(method.parameters(), lr=3e-3))
    metrics = history[-1]
    assert set(metrics) == {"loss_k1", "loss_k2"}
    assert curve[0] == pytest.approx(math.log(8 * 6 * 7), rel=0.2)  # chance: one positive among all targets
    assert curve[-1] < 0.8 * curve[0]


@pytest.mark.parametrize("context", ["gru", "masked_conv"])
def test_trainer_runs_cpc_steps(tmp_path, context):
    cfg = apply_overrides(RunConfig(), [
        "data.image_size=16", "data.num_images=80", "backbone.name=cnn", "backbone.width=8",
        "train.batch_size=16", "train.epochs=1", "train.log_every_steps=1", "train.num_threads=1",
        "optim.name=adamw", "optim.lr=1e-3", "optim.warmup_epochs=0", "method.name=cpc", "method.horizon=2",
        f"method.context={context}", "eval.max_bank=40", "eval.max_eval=16", "eval.knn_k=5",
    ])
    events = []
    assert Trainer(cfg, [events.append], runs_root=tmp_path).fit().status == "completed"
    losses_seen = [e.loss for e in events if isinstance(e, StepEvent)]
    assert len(losses_seen) == 4 and all(math.isfinite(v) for v in losses_seen)


def test_preview_frames_context_and_predicted_rows():
    method = _cpc(image_size=32, horizon=3)
    panels = method.preview(random_images(1, 32)[0], torch.Generator().manual_seed(0))
    assert [p.group for p in panels] == ["views", "tiles"]
    assert "context of rows 1–4" in panels[1].title and "predicts rows 5–7" in panels[1].title
    tiles = panels[1].image
    assert tiles.shape == (7 * 11 + 1, 7 * 11 + 1, 3)
    # frames: row 4 (index 3) is context (blue), row 5 (index 4) is predicted (orange)
    assert tuple(tiles[3 * 11 + 1, 1]) == pytest.approx((0.20, 0.45, 0.90))
    assert tuple(tiles[4 * 11 + 1, 1]) == pytest.approx((0.95, 0.55, 0.10))


def test_state_round_trip_keeps_weights_and_batch_norm_statistics():
    method = _cpc()
    method.training_step(random_images(4), torch.Generator().manual_seed(0))  # moves the running statistics
    with torch.no_grad():
        for p in method.parameters():
            p.add_(0.01)
    copy = _cpc()
    copy.load_state_dict(method.state_dict())
    method.eval(), copy.eval()
    view = resize_center(random_images(4), 16)
    torch.testing.assert_close(method.embed(view), copy.embed(view))


def test_colour_is_drawn_per_patch():
    method = CPC(CPCConfig(horizon=2), BackboneConfig(name="cnn", width=8), AugmentConfig(jitter_p=1.0, crop_scale=(1.0, 1.0)), 16)
    grey = torch.full((1, 3, 16, 16), 128, dtype=torch.uint8)
    patches = method.make_views(grey, torch.Generator().manual_seed(0))["patches"][0]
    means = patches.mean(dim=(-1, -2)).flatten(0, 1)  # one colour per patch
    assert means.unique(dim=0).shape[0] > 40  # a flat image, yet (almost) every patch has its own colour
    assert ((patches - patches.mean(dim=(-1, -2), keepdim=True)).abs() < 1e-5).all()  # each patch stays flat
