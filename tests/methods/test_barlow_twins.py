"""Barlow Twins: the paper's λ and projector, the loss on the two views' projections, real steps."""

import math

import torch

from labbench.losses import barlow_twins
from labbench.methods.barlow_twins import BarlowTwins, BarlowTwinsConfig
from tests.methods.conftest import GENTLE_VIEWS, make_tiny, random_images, short_run


def _twins(seed=0, **cfg) -> BarlowTwins:
    return make_tiny(BarlowTwins, BarlowTwinsConfig(**{"projector_dim": 16, **cfg}), seed)


def test_paper_defaults():
    cfg = BarlowTwinsConfig()
    assert cfg.lambda_offdiag == 5e-3 and (cfg.projector_dim, cfg.projector_layers) == (8192, 3)


def test_the_loss_is_barlow_twins_on_the_two_views_projections():
    twins = _twins(lambda_offdiag=0.1)
    loss, metrics = twins(random_images(), torch.Generator().manual_seed(1))
    views = twins.make_views(random_images(), torch.Generator().manual_seed(1))
    z1, z2 = (twins.projector(twins.encoder(views[v])) for v in ("view_1", "view_2"))
    assert torch.allclose(loss, barlow_twins(z1, z2, 0.1), atol=1e-5)
    assert -1 <= metrics["positive_similarity"] <= 1
    assert [(p.blur_p, p.solarize_p) for p in twins.pipelines] == [(1.0, 0.0), (0.1, 0.2)]


def test_preview_and_state_dict_round_trip():
    twins = _twins()
    panels = twins.preview(random_images(1)[0], torch.Generator().manual_seed(1))
    assert [p.title[:6] for p in panels] == ["view 1", "view 2"]
    other = _twins(seed=1)
    other.load_state_dict(twins.state_dict())
    assert all(torch.equal(a, b) for a, b in zip(other.state_dict().values(), twins.state_dict().values()))


def test_a_short_run_learns(tmp_path):
    steps = short_run(tmp_path, *GENTLE_VIEWS, "method.name=barlow_twins", "method.projector_dim=32")
    losses = [e.loss for e in steps]
    assert len(losses) == 20 and all(math.isfinite(v) for v in losses)
    assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5
