"""Jigsaw puzzles (Noroozi & Favaro 2016): 3×3 jittered tiles, a maximal-Hamming permutation set."""

import pytest
import torch

from labbench.augment.pretext import hamming_distances, unshuffle_tiles
from labbench.data.shapes import generate_shapes
from labbench.methods.jigsaw import Jigsaw
from tests.methods.conftest import build_tiny, train_on_fixed_batch

IMAGES = generate_shapes(16, 32, seed=0).images
pytestmark = pytest.mark.usefixtures("one_thread")


def _build(*overrides: str) -> Jigsaw:
    return build_tiny("jigsaw", 32, "method.hidden_dim=64", *overrides)


def test_permutation_set_is_a_distinct_buffer_and_its_reported_minimum_hamming_distance_is_real():
    method = _build()
    perms = method.state_dict()["permutations"]
    assert perms.shape == (100, 9) and len({tuple(p) for p in perms.tolist()}) == 100
    d_min, d_mean = method.hamming_summary()
    brute = min(sum(a != b for a, b in zip(p, q)) for i, p in enumerate(perms.tolist()) for q in perms.tolist()[:i])
    assert d_min == brute == 2
    assert d_mean == pytest.approx(hamming_distances(perms).sum().item() / (100 * 99))
    assert d_mean > 8.0


def test_tiles_are_shuffled_by_the_labelled_permutation_and_unshuffle_into_their_cells():
    # pixel values code position: red = 8·row, green = 8·column; whole image, no flip
    rows = torch.arange(32).view(-1, 1).expand(32, 32) * 8
    coded = torch.stack([rows, rows.T, torch.zeros_like(rows)]).to(torch.uint8).expand(64, 3, 32, 32).contiguous()
    method = _build("augment.crop_scale=[1.0, 1.0]", "augment.crop_ratio=[1.0, 1.0]", "augment.flip_p=0.0")
    puzzle = method._puzzle(coded, torch.Generator().manual_seed(0))
    assert method.tile == 8 and puzzle["tiles"].shape == (64, 9, 3, 8, 8)
    tiles = unshuffle_tiles(puzzle["raw"], method.permutations[puzzle["labels"]])
    top, left = tiles[:, :, 0, 0, 0] * 255 / 8, tiles[:, :, 1, 0, 0] * 255 / 8
    cell = torch.arange(9) // 3 * 10, torch.arange(9) % 3 * 10  # 32 px -> 10-px cells
    assert ((top >= cell[0] - 0.01) & (top + 8 <= cell[0] + 10.01)).all()
    assert ((left >= cell[1] - 0.01) & (left + 8 <= cell[1] + 10.01)).all()
    assert len(set(puzzle["labels"].tolist())) > 30  # labels cover the set


def test_each_tile_is_normalised_on_its_own():
    puzzle = _build()._puzzle(IMAGES, torch.Generator().manual_seed(0))
    tiles, raw_std = puzzle["tiles"], puzzle["raw"].std(dim=(-2, -1))
    mean, std = tiles.mean(dim=(-2, -1)), tiles.std(dim=(-2, -1))
    assert mean.abs().max() < 1e-4
    textured = raw_std >= 0.01
    assert textured.float().mean() > 0.5 and ((std - 1).abs() < 1e-3)[textured].all()
    assert (std[~textured] < 1).all()  # nearly flat tiles (plain background) are not blown up


def test_training_on_a_fixed_batch_drives_the_loss_down():
    method = _build("method.num_permutations=8")
    losses, history = train_on_fixed_batch(method, IMAGES)
    metrics = history[-1]
    assert losses[-1] < 0.5 * losses[0]
    assert metrics["permutation_accuracy"].dim() == 0


def test_preview_shows_the_tiles_in_order_shuffled_and_as_the_network_sees_them():
    panels = _build().preview(IMAGES[0], torch.Generator().manual_seed(0))
    assert [p.group for p in panels] == ["tiles"] * 3
    assert panels[0].title == "tiles in order"
    assert panels[1].title.startswith("permutation #") and "min Hamming distance 2" in panels[1].title
    assert all(p.image.shape == (26, 26, 3) and 0 <= p.image.min() and p.image.max() <= 1 for p in panels)


def test_state_dict_round_trip_keeps_the_permutations_and_the_predictions():
    a = _build()
    a.training_step(IMAGES, torch.Generator().manual_seed(1))
    b = _build("method.permutation_seed=7", "train.seed=5")
    assert not torch.equal(a.permutations, b.permutations)
    b.load_state_dict(a.state_dict())
    assert torch.equal(a.permutations, b.permutations)
    a.eval(), b.eval()
    tiles = a.make_views(IMAGES, torch.Generator().manual_seed(2))["tiles"]
    assert torch.equal(a.permutation_logits(tiles), b.permutation_logits(tiles))
