"""Barlow Twins: the paper's λ and projector, the loss on the two views' projections, real steps."""

import math

import torch

from labbench.config import AugmentConfig, BackboneConfig, RunConfig, apply_overrides
from labbench.engine import StepEvent, Trainer
from labbench.losses import barlow_twins
from labbench.methods.barlow_twins import BarlowTwins, BarlowTwinsConfig

TINY_RUN = [
    "data.image_size=16", "data.num_images=160", "backbone.name=cnn", "backbone.width=8",
    "train.batch_size=32", "train.epochs=5", "train.log_every_steps=1", "train.num_threads=2",
    "optim.name=sgd", "optim.lr=0.5", "optim.warmup_epochs=0",
    "eval.max_bank=100", "eval.max_eval=32", "eval.knn_k=5",
    "augment.crop_scale=[0.5, 1.0]", "augment.jitter_p=0", "augment.grayscale_p=0",
]


def _twins(seed=0, **cfg) -> BarlowTwins:
    torch.manual_seed(seed)
    cfg = BarlowTwinsConfig(**{"projector_dim": 16, **cfg})
    return BarlowTwins(cfg, BackboneConfig(name="cnn", width=8), AugmentConfig(), 16)


def _images(n: int = 16) -> torch.Tensor:
    return torch.randint(0, 256, (n, 3, 16, 16), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))


def test_paper_defaults():
    cfg = BarlowTwinsConfig()
    assert cfg.lambda_offdiag == 5e-3 and (cfg.projector_dim, cfg.projector_layers) == (8192, 3)


def test_the_loss_is_barlow_twins_on_the_two_views_projections():
    twins = _twins(lambda_offdiag=0.1)
    loss, metrics = twins(_images(), torch.Generator().manual_seed(1))
    views = twins.make_views(_images(), torch.Generator().manual_seed(1))
    z1, z2 = (twins.projector(twins.encoder(views[v])) for v in ("view_1", "view_2"))
    assert torch.allclose(loss, barlow_twins(z1, z2, 0.1), atol=1e-5)
    assert -1 <= metrics["positive_similarity"] <= 1
    assert [(p.blur_p, p.solarize_p) for p in twins.pipelines] == [(1.0, 0.0), (0.1, 0.2)]


def test_preview_and_state_dict_round_trip():
    twins = _twins()
    panels = twins.preview(_images(1)[0], torch.Generator().manual_seed(1))
    assert [p.title[:6] for p in panels] == ["view 1", "view 2"]
    other = _twins(seed=1)
    other.load_state_dict(twins.state_dict())
    assert all(torch.equal(a, b) for a, b in zip(other.state_dict().values(), twins.state_dict().values()))


def test_a_short_run_learns(tmp_path):
    cfg = apply_overrides(RunConfig(), [*TINY_RUN, "method.name=barlow_twins", "method.projector_dim=32"])
    events = []
    assert Trainer(cfg, [events.append], runs_root=tmp_path).fit().status == "completed"
    losses = [e.loss for e in events if isinstance(e, StepEvent)]
    assert len(losses) == 20 and all(math.isfinite(v) for v in losses)
    assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5
