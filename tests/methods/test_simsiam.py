"""SimSiam: the stop-gradient cuts the target branch, the predictor is a bottleneck, real steps with SGD."""

import math

import torch

from labbench.config import AugmentConfig, BackboneConfig
from labbench.methods.simsiam import SimSiam, SimSiamConfig
from tests.methods.conftest import GENTLE_VIEWS, make_tiny, random_images, short_run


def _simsiam(seed=0, **cfg) -> SimSiam:
    return make_tiny(SimSiam, SimSiamConfig(**{"projection_dim": 16, "predictor_hidden_dim": 4, **cfg}), seed)


def test_the_predictor_is_a_bottleneck_as_in_the_paper():
    simsiam = SimSiam(SimSiamConfig(), BackboneConfig(name="cnn", width=8), AugmentConfig(), 16)
    linears = [m for m in simsiam.predictor if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(2048, 512), (512, 2048)]
    # the projector ends in a batch norm without scale and shift
    assert isinstance(simsiam.projector[-1], torch.nn.BatchNorm1d) and not simsiam.projector[-1].affine


def test_stop_gradient_no_gradient_reaches_the_projections_through_the_target_branch():
    simsiam = _simsiam()
    outputs = {}
    simsiam.projector.register_forward_hook(lambda m, i, out: outputs.setdefault("z", []).append(out))
    simsiam.predictor.register_forward_hook(lambda m, i, out: outputs.setdefault("p", []).append(out))
    loss, _ = simsiam(random_images(), torch.Generator().manual_seed(1))
    z, p = outputs["z"], outputs["p"]
    grad_z = torch.autograd.grad(loss, z, retain_graph=True)
    grad_p = torch.autograd.grad(loss, p, retain_graph=True)
    # the whole gradient at each projection is what flows back through its own predictor: none enters as a target
    through_predictor = torch.autograd.grad(p, z, grad_outputs=grad_p)
    for total, via_p in zip(grad_z, through_predictor):
        assert torch.allclose(total, via_p, atol=1e-7)
    assert all(g.abs().sum() > 0 for g in grad_z)


def test_without_the_stop_gradient_the_gradient_would_differ():
    # the same check fails for a loss that lets the target branch through: the test above can fail
    z = torch.randn(8, 4, requires_grad=True)
    p = z * 2
    leaky = -torch.nn.functional.cosine_similarity(p, z.flip(0)).mean()
    (grad_z,) = torch.autograd.grad(leaky, z, retain_graph=True)
    (grad_p,) = torch.autograd.grad(leaky, p, retain_graph=True)
    (via_p,) = torch.autograd.grad(p, z, grad_outputs=grad_p)
    assert not torch.allclose(grad_z, via_p)


def test_metrics_report_the_output_std_and_preview_shows_two_views():
    simsiam = _simsiam()
    _, metrics = simsiam(random_images(), torch.Generator().manual_seed(1))
    assert 0 < metrics["output_std"] <= 1
    panels = simsiam.preview(random_images(1)[0], torch.Generator().manual_seed(1))
    assert [(p.title, p.group) for p in panels] == [("view 1", "views"), ("view 2", "views")]


def test_state_dict_round_trip():
    simsiam = _simsiam()
    other = _simsiam(seed=1)
    other.load_state_dict(simsiam.state_dict())
    assert all(torch.equal(a, b) for a, b in zip(other.state_dict().values(), simsiam.state_dict().values()))


def test_a_short_run_learns(tmp_path):
    steps = short_run(
        tmp_path, *GENTLE_VIEWS, "method.name=simsiam", "method.projection_dim=32", "method.predictor_hidden_dim=8",
    )
    losses = [e.loss for e in steps]
    assert len(losses) == 20 and all(math.isfinite(v) and -1 <= v <= 1 for v in losses)
    assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5
