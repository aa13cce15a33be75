"""Relative patch location (Doersch et al. 2015): centre + neighbour, 8-way position, colour dropping."""

import pytest
import torch

from labbench.augment import denormalize
from labbench.augment.pretext import NEIGHBOUR_OFFSETS
from labbench.data.shapes import generate_shapes
from labbench.methods.relative_patch import RelativePatch
from tests.methods.conftest import build_tiny, train_on_fixed_batch

IMAGES = generate_shapes(16, 32, seed=0).images
pytestmark = pytest.mark.usefixtures("one_thread")


def _build(*overrides: str) -> RelativePatch:
    return build_tiny("relative_patch", 32, "method.hidden_dim=64", *overrides)


def test_grid_geometry_scales_with_the_image_and_the_encoder_runs_at_patch_size():
    small, large = _build().grid, _build("data.image_size=64").grid
    assert (small.patch, small.gap, small.jitter) == (7, 4, 1)
    assert large.patch == 2 * small.patch + 1 and large.extent <= 64
    views = _build().make_views(IMAGES, torch.Generator().manual_seed(0))
    assert views["centre"].shape == views["neighbour"].shape == (16, 3, 7, 7)


def test_pairs_carry_the_label_of_the_neighbours_position():
    # pixel values code position: red = 8·row, green = 8·column (32 px -> 0..248 fits uint8)
    rows = torch.arange(32).view(-1, 1).expand(32, 32) * 8
    coded = torch.stack([rows, rows.T, torch.zeros_like(rows)]).to(torch.uint8).expand(400, 3, 32, 32)
    method = _build("method.color_drop=false")
    views = method.make_views(coded.contiguous(), torch.Generator().manual_seed(0))
    corner = lambda patch: (denormalize(patch)[:, :2, 0, 0] * 255 / 8).round().long()  # noqa: E731
    delta = corner(views["neighbour"]) - corner(views["centre"])
    step, slack = method.grid.patch + method.grid.gap, 2 * method.grid.jitter
    assert set(views["labels"].tolist()) == set(range(8))
    for k, offset in enumerate(NEIGHBOUR_OFFSETS):
        sel = views["labels"] == k
        assert ((delta[sel] - torch.tensor(offset) * step).abs() <= slack).all(), k


def test_colour_dropping_leaves_one_channel_per_patch_by_default():
    views = _build().make_views(IMAGES, torch.Generator().manual_seed(0))
    spread = torch.cat([views["centre"], views["neighbour"]]).std(dim=(2, 3))  # per patch and channel
    live = spread > 0.5 * spread.max(dim=1, keepdim=True).values
    flat = spread.max(dim=1).values < 1e-3  # a patch of flat background has nothing to keep
    assert (live.sum(dim=1)[~flat] == 1).all()
    gray = _build("method.color_drop=false", "method.grayscale_p=1.0").make_views(IMAGES, torch.Generator())
    pixels = denormalize(gray["centre"])
    assert (pixels.max(dim=1).values - pixels.min(dim=1).values).max() < 1e-5


def test_training_on_a_fixed_batch_drives_the_loss_down():
    method = _build()
    losses, history = train_on_fixed_batch(method, IMAGES)
    metrics = history[-1]
    assert losses[-1] < 0.5 * losses[0]
    assert metrics["position_accuracy"].dim() == 0


def test_preview_shows_the_pair_with_the_neighbours_label():
    panels = _build().preview(IMAGES[0], torch.Generator().manual_seed(0))
    assert [p.group for p in panels] == ["patch pair"] * 3
    assert panels[0].image.shape == (32, 32, 3) and panels[1].image.shape == (7, 7, 3)
    assert panels[1].title == "centre patch" and "— label" in panels[2].title
    assert all(p.image.min() >= 0 and p.image.max() <= 1 for p in panels)


def test_state_dict_round_trip_gives_the_same_predictions():
    a = _build()
    a.training_step(IMAGES, torch.Generator().manual_seed(1))
    b = _build("train.seed=5")
    b.load_state_dict(a.state_dict())
    a.eval(), b.eval()
    views = a.make_views(IMAGES, torch.Generator().manual_seed(2))
    assert torch.equal(a.position_logits(views["centre"], views["neighbour"]),
                       b.position_logits(views["centre"], views["neighbour"]))
