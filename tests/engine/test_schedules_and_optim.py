"""Schedules are the papers' curves; LARS scales each layer's step by its trust ratio."""

import numpy as np
import pytest
import torch

from labbench.config import OptimConfig
from labbench.engine.optim import LARS, build_optimizer, scaled_lr
from labbench.engine.schedules import cosine_schedule


def test_cosine_schedule_warms_up_then_decays_to_final():
    s = cosine_schedule(1.0, 0.1, total_steps=110, warmup_steps=10)
    assert len(s) == 110
    assert s[0] == 0.0 and s[9] == pytest.approx(0.9)
    assert s[10] == pytest.approx(1.0)
    assert np.all(np.diff(s[10:]) <= 1e-12)
    assert s[-1] == pytest.approx(0.1, abs=1e-3)


def test_linear_scaling_rule():
    assert scaled_lr(OptimConfig(lr=0.3), 4096) == pytest.approx(4.8)  # SimCLR: 4.8 at batch 4096


def test_lars_step_is_trust_ratio_times_weight_norm():
    w = torch.nn.Parameter(torch.full((10,), 2.0))
    opt = LARS([{"params": [w], "weight_decay": 0.0}], lr=1.0, momentum=0.0, trust=0.001)
    w.grad = torch.full((10,), 100.0)
    before = w.detach().clone()
    opt.step()
    # update = lr * trust * |w| / |g| * g : its norm is trust * |w|
    assert torch.linalg.vector_norm(before - w.detach()).item() == pytest.approx(0.001 * before.norm().item(), rel=1e-4)


def test_lars_excluded_group_takes_plain_sgd_step():
    b = torch.nn.Parameter(torch.zeros(3))
    opt = LARS([{"params": [b], "weight_decay": 0.0, "lars_exclude": True}], lr=0.5, momentum=0.0)
    b.grad = torch.ones(3)
    opt.step()
    assert torch.allclose(b.detach(), torch.full((3,), -0.5))


@pytest.mark.parametrize("name", ["sgd", "adamw", "lars"])
def test_build_optimizer_uses_scaled_lr(name):
    p = torch.nn.Parameter(torch.zeros(2, 2))
    opt = build_optimizer([{"params": [p], "weight_decay": 0.0}], OptimConfig(name=name, lr=0.1), batch_size=512)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.2)
