"""VICReg: the three terms are reported and weighted as the paper says; a wide expander; real steps."""

import math

import torch

from labbench.losses import vicreg_terms
from labbench.methods.vicreg import VICReg, VICRegConfig
from tests.methods.conftest import GENTLE_VIEWS, make_tiny, random_images, short_run


def _vicreg(seed=0, **cfg) -> VICReg:
    return make_tiny(VICReg, VICRegConfig(**{"expander_dim": 16, **cfg}), seed)


def test_paper_defaults():
    cfg = VICRegConfig()
    assert (cfg.sim_weight, cfg.var_weight, cfg.cov_weight) == (25.0, 25.0, 1.0)
    assert (cfg.expander_dim, cfg.expander_layers) == (8192, 3)


def test_the_expander_has_three_layers_of_the_configured_width():
    linears = [m for m in _vicreg().expander if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(64, 16), (16, 16), (16, 16)]


def test_metrics_report_the_three_terms_and_the_loss_is_their_weighted_sum():
    vicreg = _vicreg(sim_weight=2.0, var_weight=3.0, cov_weight=5.0)
    loss, metrics = vicreg(random_images(), torch.Generator().manual_seed(1))
    assert set(metrics) == {"invariance", "variance", "covariance"}
    expected = 2.0 * metrics["invariance"] + 3.0 * metrics["variance"] + 5.0 * metrics["covariance"]
    assert torch.allclose(loss, expected)
    assert all(v.dim() == 0 and not v.requires_grad and v >= 0 for v in metrics.values())
    # the terms are those of the loss library, computed on the two views' expanded embeddings
    views = vicreg.make_views(random_images(), torch.Generator().manual_seed(1))
    z1, z2 = (vicreg.expander(vicreg.encoder(views[v])) for v in ("view_1", "view_2"))
    for name, value in vicreg_terms(z1, z2).items():
        assert torch.allclose(metrics[name], value, atol=1e-5), name


def test_views_follow_byols_recipes_and_the_preview_says_so():
    vicreg = _vicreg()
    assert [(p.blur_p, p.solarize_p) for p in vicreg.pipelines] == [(1.0, 0.0), (0.1, 0.2)]
    panels = vicreg.preview(random_images(1)[0], torch.Generator().manual_seed(1))
    assert len(panels) == 2 and panels[1].title.startswith("view 2") and panels[1].group == "views"


def test_state_dict_round_trip():
    vicreg = _vicreg()
    other = _vicreg(seed=1)
    other.load_state_dict(vicreg.state_dict())
    assert all(torch.equal(a, b) for a, b in zip(other.state_dict().values(), vicreg.state_dict().values()))


def test_a_short_run_learns(tmp_path):
    steps = short_run(tmp_path, *GENTLE_VIEWS, "method.name=vicreg", "method.expander_dim=32")
    losses = [e.loss for e in steps]
    assert len(losses) == 20 and all(math.isfinite(v) for v in losses)
    assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5
    assert set(steps[-1].metrics) == {"invariance", "variance", "covariance"}
