"""DINO: multi-crop views, a teacher on global crops only, centring, the frozen last layer, the EMA schedule."""

import math

import pytest
import torch
from torch import nn

from labbench import losses
from labbench.augment import resize_center
from labbench.config import BackboneConfig
from labbench.engine import StepEvent, Trainer
from labbench.errors import ConfigError
from labbench.methods.dino import DINO, DINOConfig, local_crop_size, masked_tokens
from labbench.run_config import RunConfig, apply_overrides
from tests.methods.conftest import make_tiny, random_images

SMALL_HEAD = {"out_dim": 64, "hidden_dim": 32, "bottleneck_dim": 16, "ibot_out_dim": 32}


def _dino(image_size=16, backbone="vit_tiny", **cfg) -> DINO:
    config = DINOConfig(**{"local_crops_number": 2, **SMALL_HEAD, **cfg})
    return make_tiny(DINO, config, backbone=BackboneConfig(name=backbone, patch_size=4, depth=1, width=8),
                     image_size=image_size)


def test_dino_builds_two_global_and_k_local_crops():
    method = _dino(image_size=32, local_crops_number=3)
    views = method.make_views(random_images(5, 32), torch.Generator().manual_seed(0))
    assert list(views) == ["global_1", "global_2", "local_1", "local_2", "local_3"]
    assert all(views[f"global_{i}"].shape == (5, 3, 32, 32) for i in (1, 2))
    # 96/224 of 32 px is 13.7 px: 12 px, three whole 4-px patches
    assert all(views[f"local_{i}"].shape == (5, 3, 12, 12) for i in (1, 2, 3))
    assert local_crop_size(224, 96 / 224, 16) == 96


def test_teacher_sees_global_crops_only():
    method = _dino(local_crops_number=2)
    seen = {"teacher": [], "student": []}
    for role in seen:
        getattr(method, role).backbone.register_forward_pre_hook(lambda m, args, role=role: seen[role].append(tuple(args[0].shape)))
    method.training_step(random_images(4), torch.Generator().manual_seed(0))
    assert seen["teacher"] == [(8, 3, 16, 16)]  # 2 global crops × 4 images, nothing else
    assert seen["student"] == [(8, 3, 16, 16), (8, 3, 8, 8)]  # and the 2 local crops × 4 images


class _Constant(nn.Module):
    """A collapsed head: the same output whatever the input."""

    def __init__(self, value: torch.Tensor) -> None:
        super().__init__()
        self.value = value

    def forward(self, x):
        return self.value.expand(x.shape[0], -1)


def test_centring_turns_a_constant_teacher_into_a_uniform_one():
    method = _dino(local_crops_number=0, center_momentum=0.5)  # a faster centre: fewer steps to converge
    constant = torch.randn(64)
    method.teacher.head = _Constant(constant)
    images, g = random_images(2), torch.Generator().manual_seed(0)
    entropies = [method.training_step(images, g)[1]["teacher_entropy"].item() for _ in range(16)]
    assert entropies[0] < 0.5 * math.log(64)  # before centring: the sharp temperature picks few prototypes
    assert entropies[-1] == pytest.approx(math.log(64), abs=1e-3)  # uniform: the collapse shows as maximal entropy
    probs = losses.teacher_distribution(constant[None], method.center, method.cfg.teacher_temp)
    torch.testing.assert_close(probs, torch.full((1, 64), 1 / 64), atol=0, rtol=1e-3)


def test_centre_update_follows_the_momentum_formula():
    method = _dino()
    start = torch.randn(64)
    method.center.copy_(start)
    images = random_images(4)
    views = method.make_views(images, torch.Generator().manual_seed(5))
    with torch.no_grad():
        teacher_out = method.teacher.head(method.teacher.backbone(torch.cat([views["global_1"], views["global_2"]])))
    _, metrics = method.training_step(images, torch.Generator().manual_seed(5))
    torch.testing.assert_close(method.center, 0.9 * start + 0.1 * teacher_out.mean(dim=0))
    torch.testing.assert_close(metrics["center_norm"], method.center.norm())


def test_centre_momentum_one_switches_centring_off():
    """The ablation of the paper's Fig. 7: the centre stays at zero, the constant teacher stays sharp."""
    method = _dino(local_crops_number=0, center_momentum=1.0)
    method.teacher.head = _Constant(torch.randn(64))
    images, g = random_images(2), torch.Generator().manual_seed(0)
    entropies = [method.training_step(images, g)[1]["teacher_entropy"].item() for _ in range(4)]
    assert torch.count_nonzero(method.center) == 0
    assert max(entropies) < 0.5 * math.log(64) and entropies[0] == pytest.approx(entropies[-1])


def test_last_layer_is_frozen_during_the_first_epoch():
    method = _dino()
    last = method.student.head.last_layer.parametrizations.weight.original1
    opt = torch.optim.AdamW([p for p in method.parameters() if p.requires_grad], lr=1e-2, weight_decay=0.04)
    before = last.detach().clone()
    mlp_before = method.student.head.mlp[0].weight.detach().clone()
    for _ in range(2):
        method.training_step(random_images(4), torch.Generator().manual_seed(0))[0].backward()
        method.before_optimizer_step(epoch=0)
        assert last.grad is None or (last.grad == 0).all()
        opt.step()
        opt.zero_grad()
    assert torch.equal(last, before)
    assert not torch.equal(method.student.head.mlp[0].weight, mlp_before)
    method.training_step(random_images(4), torch.Generator().manual_seed(0))[0].backward()
    method.before_optimizer_step(epoch=1)
    assert last.grad is not None and last.grad.abs().sum() > 0


@pytest.mark.parametrize("step", [0, 50, 99])
def test_teacher_momentum_follows_the_cosine_schedule(step):
    method = _dino()
    with torch.no_grad():
        for p in method.student.parameters():
            p.add_(1.0)
    teacher_before = [p.clone() for p in method.teacher.parameters()]
    method.after_step(step, total_steps=100)
    m = 1 - (1 - 0.996) * (math.cos(math.pi * step / 100) + 1) / 2
    assert method.current_momentum() == pytest.approx(m)
    for t, t0, s in zip(method.teacher.parameters(), teacher_before, method.student.parameters()):
        torch.testing.assert_close(t, m * t0 + (1 - m) * s)


def test_teacher_temperature_warms_up_linearly_over_the_stated_epochs():
    method = _dino(warmup_teacher_temp=0.04, teacher_temp=0.07, warmup_teacher_temp_epochs=10)
    method.before_step(epoch=5.0)
    assert method.training_step(random_images(4), torch.Generator().manual_seed(0))[1]["teacher_temp"].item() == pytest.approx(0.055)
    assert method.teacher_temperature(0.0) == pytest.approx(0.04)
    assert method.teacher_temperature(30.0) == pytest.approx(0.07)


def test_trainer_runs_dino_with_the_temperature_clock(tmp_path):
    cfg = apply_overrides(RunConfig(), [
        "data.image_size=16", "data.num_images=80", "backbone.name=vit_tiny", "backbone.patch_size=4",
        "backbone.depth=1", "train.batch_size=16", "train.epochs=2", "train.log_every_steps=1", "train.num_threads=1",
        "optim.name=adamw", "optim.lr=1e-3", "optim.warmup_epochs=0", "optim.clip_grad=3.0", "method.name=dino",
        "method.out_dim=64", "method.hidden_dim=32", "method.bottleneck_dim=16", "method.local_crops_number=2",
        "method.warmup_teacher_temp=0.04", "method.teacher_temp=0.08", "method.warmup_teacher_temp_epochs=2",
        "eval.max_bank=40", "eval.max_eval=16", "eval.knn_k=5",
    ])
    events = []
    assert Trainer(cfg, [events.append], runs_root=tmp_path).fit().status == "completed"
    steps = [e for e in events if isinstance(e, StepEvent)]
    assert len(steps) == 8 and all(math.isfinite(e.loss) for e in steps)
    # 4 steps per epoch: step i runs at epoch i/4, so the temperature climbs 0.005 per step
    temps = [e.metrics["teacher_temp"] for e in steps]
    assert temps == pytest.approx([0.04 + 0.005 * i for i in range(8)])
    assert {"teacher_entropy", "kl", "center_norm"} <= set(steps[0].metrics)
    assert steps[0].momentum == pytest.approx(0.996) and steps[-1].momentum == pytest.approx(1.0, abs=1e-3)


def test_last_attention_is_the_teachers_cls_row_over_patches():
    method = _dino(image_size=32)
    attention = method.last_attention(resize_center(random_images(2, 32), 32))
    assert attention.shape == (2, 3, 64)  # vit_tiny: 3 heads, 8×8 patches
    assert (attention.sum(dim=-1) < 1).all() and (attention >= 0).all()  # the rest goes to the CLS token itself
    with pytest.raises(ConfigError, match="ViT"):
        _dino(backbone="cnn").last_attention(resize_center(random_images(2), 16))


def test_a_masked_patch_is_invisible_to_the_student():
    method = _dino(ibot_weight=1.0)
    view = resize_center(random_images(1), 16)
    mask = torch.zeros(1, 16, dtype=torch.bool)
    mask[0, 5] = True  # patch (row 1, column 1): pixels 4–7 × 4–7
    altered = view.clone()
    altered[..., 4:8, 4:8] += 3.0
    backbone = method.student.backbone
    torch.testing.assert_close(
        masked_tokens(backbone, view, mask, method.mask_token), masked_tokens(backbone, altered, mask, method.mask_token)
    )
    assert not torch.allclose(backbone.forward_tokens(view), backbone.forward_tokens(altered))


def test_ibot_adds_a_patch_loss_and_needs_a_vit():
    method = _dino(ibot_weight=0.5, ibot_mask_probability=1.0)
    loss, metrics = method.training_step(random_images(4), torch.Generator().manual_seed(0))
    torch.testing.assert_close(loss.detach(), metrics["dino_loss"] + 0.5 * metrics["ibot_loss"])
    assert method.patch_center.abs().sum() > 0
    with pytest.raises(ConfigError, match="ibot_weight"):
        _dino(backbone="cnn", ibot_weight=1.0)


def test_a_resnet_style_backbone_trains_too():
    method = _dino(backbone="cnn")
    loss, _ = method.training_step(random_images(4), torch.Generator().manual_seed(0))
    loss.backward()
    assert math.isfinite(loss.item())


def test_preview_groups_global_and_local_crops():
    method = _dino(image_size=32, local_crops_number=3, ibot_weight=1.0, ibot_mask_probability=1.0)
    panels = method.preview(random_images(1, 32)[0], torch.Generator().manual_seed(0))
    assert [p.group for p in panels] == ["global crops"] * 2 + ["masked"] + ["local crops"] * 3
    assert panels[-1].title.startswith("local crop 3 of 3 — 12 px")
    assert panels[0].image.shape == (32, 32, 3) and panels[-1].image.shape == (12, 12, 3)


def test_state_round_trip_keeps_teacher_and_centres():
    method = _dino(ibot_weight=1.0)
    method.training_step(random_images(4), torch.Generator().manual_seed(0))
    method.after_step(0, 10)
    state = method.state_dict()
    assert {"center", "patch_center", "mask_token"} <= set(state)
    copy = _dino(ibot_weight=1.0)
    copy.load_state_dict(state)
    assert torch.equal(copy.center, method.center) and torch.equal(copy.patch_center, method.patch_center)
    view = resize_center(random_images(4), 16)
    torch.testing.assert_close(copy.embed(view), method.embed(view))
