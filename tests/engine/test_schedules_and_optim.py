"""Schedules are the papers' curves; LARS scales each layer's step by its trust ratio."""

import numpy as np
import pytest
import torch

from labbench.config import OptimConfig
from labbench.engine.optim import LARS, build_optimizer, scaled_lr
from labbench.schedules import cosine_schedule


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


def _lars_reference_step(params, lr, momentum, weight_decay, trust, state):
    """LARS one parameter at a time, as SimCLR's reference code writes it."""
    for p in params:
        g = p.grad + weight_decay * p
        w_norm, g_norm = p.norm(), g.norm()
        g = g * (trust * w_norm / g_norm if w_norm > 0 and g_norm > 0 else 1.0)
        state[p] = g.clone() if p not in state else momentum * state[p] + g
        p.sub_(lr * state[p])


def test_lars_matches_the_per_parameter_loop_over_steps_with_momentum_and_decay():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.ReLU(), torch.nn.Linear(7, 3))
    ref = [p.detach().clone() for p in net.parameters()]
    opt = LARS([{"params": list(net.parameters()), "weight_decay": 1e-2}], lr=0.5, momentum=0.9, trust=0.01)
    state: dict = {}
    for step in range(4):
        x = torch.randn(4, 5, generator=torch.Generator().manual_seed(step))
        opt.zero_grad()
        net(x).square().sum().backward()
        if step == 0:  # the last layer starts late (DINO freezes it at first): the others keep their momentum
            for p in net[2].parameters():
                p.grad = None
        with torch.no_grad():
            for r, p in zip(ref, net.parameters()):
                r.grad = None if p.grad is None else p.grad.clone()
            _lars_reference_step([r for r in ref if r.grad is not None], 0.5, 0.9, 1e-2, 0.01, state)
        opt.step()
    for r, p in zip(ref, net.parameters()):
        torch.testing.assert_close(p.detach(), r, rtol=1e-5, atol=1e-7)
