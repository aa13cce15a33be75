"""BYOL's mechanics: a target without gradient that follows by EMA, a predictor only online, asymmetric views."""

import math

import pytest
import torch

from labbench.methods.byol import BYOL, BYOLConfig
from tests.methods.conftest import GENTLE_VIEWS, make_tiny, random_images, short_run


def _byol(seed=0, **cfg) -> BYOL:
    cfg = BYOLConfig(**{"projection_dim": 8, "hidden_dim": 16, "predictor_hidden_dim": 16, **cfg})
    return make_tiny(BYOL, cfg, seed)


def _target(byol: BYOL) -> list[torch.Tensor]:
    return [*byol.target_encoder.parameters(), *byol.target_projector.parameters()]


def _online(byol: BYOL) -> list[torch.Tensor]:
    return [*byol.encoder.parameters(), *byol.projector.parameters()]


def test_paper_defaults():
    cfg = BYOLConfig()
    assert (cfg.projection_dim, cfg.hidden_dim, cfg.predictor_hidden_dim) == (256, 4096, 4096)
    assert cfg.base_momentum == 0.996 and cfg.momentum_cosine


def test_the_target_receives_no_gradient_and_is_never_optimised():
    byol = _byol()
    loss, _ = byol(random_images(), torch.Generator().manual_seed(1))
    loss.backward()
    assert all(not p.requires_grad and p.grad is None for p in _target(byol))
    assert all(p.grad is not None for p in [*_online(byol), *byol.predictor.parameters()])
    trained = {id(p) for group in byol.param_groups(0.0) for p in group["params"]}
    assert not trained & {id(p) for p in _target(byol)}


def test_the_predictor_exists_only_online():
    byol = _byol()
    # the target mirrors encoder + projector, parameter for parameter, and nothing more
    assert [p.shape for p in _target(byol)] == [p.shape for p in _online(byol)]
    assert not any(name.startswith("target") and "predictor" in name for name in byol.state_dict())
    # so the target's output is a projection, and the loss compares predictions against projections
    assert byol.target_projector(byol.target_encoder(torch.randn(4, 3, 16, 16))).shape == (4, 8)


def test_after_a_real_step_the_target_moves_by_ema_on_a_cosine_schedule():
    byol = _byol()
    optimizer = torch.optim.SGD([p for p in byol.parameters() if p.requires_grad], lr=0.5)
    loss, _ = byol(random_images(), torch.Generator().manual_seed(1))
    loss.backward()
    optimizer.step()
    before = [p.clone() for p in _target(byol)]
    byol.after_step(0, 100)
    assert byol.current_momentum() == pytest.approx(0.996)
    for t, t0, o in zip(_target(byol), before, _online(byol)):
        assert torch.allclose(t, 0.996 * t0 + 0.004 * o, atol=1e-6)
    byol.after_step(99, 100)
    assert byol.current_momentum() == pytest.approx(1.0, abs=1e-6)


def test_the_two_views_follow_different_recipes():
    byol = _byol()
    assert [(p.blur_p, p.solarize_p) for p in byol.pipelines] == [(1.0, 0.0), (0.1, 0.2)]
    panels = byol.preview(random_images(1)[0], torch.Generator().manual_seed(1))
    assert [p.title for p in panels] == ["view 1 — blur p 1, solarize p 0", "view 2 — blur p 0.1, solarize p 0.2"]
    assert all(p.group == "views" and p.image.shape == (16, 16, 3) for p in panels)


def test_state_dict_round_trip_keeps_the_target():
    byol = _byol()
    with torch.no_grad():
        for p in _target(byol):
            p.add_(1.0)
    other = _byol(seed=1)
    other.load_state_dict(byol.state_dict())
    assert all(torch.equal(a, b) for a, b in zip(_target(other), _target(byol)))


def test_a_short_run_learns(tmp_path):
    steps = short_run(
        tmp_path, *GENTLE_VIEWS, "method.name=byol", "method.projection_dim=16", "method.hidden_dim=32",
        "method.predictor_hidden_dim=32",
    )
    losses = [e.loss for e in steps]
    assert len(losses) == 20 and all(math.isfinite(v) and 0 <= v <= 8 for v in losses)
    assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5
    assert all(e.momentum is not None and 0.996 <= e.momentum <= 1 for e in steps)
