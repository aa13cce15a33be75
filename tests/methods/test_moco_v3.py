"""MoCo v3: in-batch InfoNCE scaled by 2τ, both directions, a momentum encoder without gradient, no queue."""

import math

import pytest
import torch
import torch.nn.functional as F

from labbench.config import BackboneConfig
from labbench.methods.moco_v3 import MoCoV3, MoCoV3Config, contrastive_loss
from tests.methods.conftest import GENTLE_VIEWS, make_tiny, random_images, short_run


def _moco_v3(backbone=None, seed=0, **cfg) -> MoCoV3:
    return make_tiny(MoCoV3, MoCoV3Config(**{"projection_dim": 8, "hidden_dim": 16, **cfg}), seed, backbone)


def _vit() -> BackboneConfig:
    return BackboneConfig(name="vit_tiny", patch_size=4, depth=1)


def test_contrastive_loss_is_cross_entropy_over_the_batch_keys_times_two_tau():
    q, k = torch.randn(6, 4), torch.randn(6, 4)
    logits = F.normalize(q, dim=1) @ F.normalize(k, dim=1).T / 0.2
    expected = 2 * 0.2 * F.cross_entropy(logits, torch.arange(6))
    assert torch.allclose(contrastive_loss(q, k, 0.2), expected, atol=1e-6)


def test_the_loss_is_symmetric_over_the_two_views():
    moco = _moco_v3()
    loss, _ = moco(random_images(), torch.Generator().manual_seed(1))
    views = moco.make_views(random_images(), torch.Generator().manual_seed(1))
    q1, q2 = (moco.predictor(moco.projector(moco.encoder(views[v]))) for v in ("view_1", "view_2"))
    k1, k2 = (moco.momentum_projector(moco.momentum_encoder(views[v])) for v in ("view_1", "view_2"))
    assert torch.allclose(loss, contrastive_loss(q1, k2, 0.2) + contrastive_loss(q2, k1, 0.2), atol=1e-5)


def test_no_queue_and_the_momentum_encoder_gets_no_gradient():
    moco = _moco_v3()
    assert not any("queue" in name for name in moco.state_dict())
    loss, _ = moco(random_images(), torch.Generator().manual_seed(1))
    loss.backward()
    momentum = [*moco.momentum_encoder.parameters(), *moco.momentum_projector.parameters()]
    assert all(not p.requires_grad and p.grad is None for p in momentum)
    assert all(p.grad is not None for p in moco.predictor.parameters())


def test_after_a_real_step_the_momentum_encoder_moves_by_ema_from_0_99():
    moco = _moco_v3()
    optimizer = torch.optim.SGD([p for p in moco.parameters() if p.requires_grad], lr=0.5)
    loss, _ = moco(random_images(), torch.Generator().manual_seed(1))
    loss.backward()
    optimizer.step()
    before = [p.clone() for p in moco.momentum_encoder.parameters()]
    moco.after_step(0, 50)
    assert moco.current_momentum() == pytest.approx(0.99)
    for m, m0, q in zip(moco.momentum_encoder.parameters(), before, moco.encoder.parameters()):
        assert torch.allclose(m, 0.99 * m0 + 0.01 * q, atol=1e-6)


def test_vit_keeps_its_random_patch_projection_and_uses_the_vit_heads():
    vit, cnn = _moco_v3(_vit()), _moco_v3()
    assert not any(p.requires_grad for p in vit.encoder.patch_embed.parameters())
    assert all(p.requires_grad for name, p in vit.encoder.named_parameters() if not name.startswith("patch_embed"))
    # ViT: 3-layer projector, predictor ending in BN; ResNet/CNN: 2-layer projector, predictor without
    count = lambda head: sum(isinstance(m, torch.nn.Linear) for m in head)  # noqa: E731
    assert (count(vit.projector), count(cnn.projector)) == (3, 2)
    assert isinstance(vit.predictor[-1], torch.nn.BatchNorm1d) and isinstance(cnn.predictor[-1], torch.nn.Linear)
    loss, _ = vit(random_images(8), torch.Generator().manual_seed(1))
    loss.backward()
    assert math.isfinite(loss.item()) and all(p.grad is None for p in vit.encoder.patch_embed.parameters())


def test_preview_and_state_dict_round_trip():
    moco = _moco_v3()
    panels = moco.preview(random_images(1)[0], torch.Generator().manual_seed(1))
    assert [p.title[:6] for p in panels] == ["view 1", "view 2"]
    other = _moco_v3(seed=1)
    other.load_state_dict(moco.state_dict())
    assert all(torch.equal(a, b) for a, b in zip(other.state_dict().values(), moco.state_dict().values()))


def test_a_short_run_learns(tmp_path):
    steps = short_run(
        tmp_path, *GENTLE_VIEWS, "method.name=moco_v3", "method.projection_dim=16", "method.hidden_dim=32",
    )
    losses = [e.loss for e in steps]
    assert len(losses) == 20 and all(math.isfinite(v) for v in losses)
    assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5
