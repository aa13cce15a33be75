"""Colorful image colorization (Zhang et al. 2016): lightness in, ab bins out, annealed-mean decoding."""

import math

import pytest
import torch
import torch.nn.functional as F

from labbench.augment import denormalize, normalize
from labbench.augment.pretext import lightness_image, rgb_to_lab
from labbench.data.shapes import generate_shapes
from labbench.methods.colorization import Colorization
from tests.methods.conftest import build_tiny, train_on_fixed_batch

IMAGES = generate_shapes(16, 16, seed=0).images
WHOLE = ["augment.crop_scale=[1.0, 1.0]", "augment.crop_ratio=[1.0, 1.0]", "augment.flip_p=0.0"]
pytestmark = pytest.mark.usefixtures("one_thread")


def _build(*overrides: str) -> Colorization:
    return build_tiny("colorization", 16, *overrides)


def test_input_is_the_lightness_alone_and_targets_sit_at_the_feature_map_resolution():
    method = _build(*WHOLE)
    views = method.make_views(IMAGES, torch.Generator().manual_seed(0))
    gray, target = denormalize(views["gray"]), views["target"]
    assert (gray.max(dim=1).values - gray.min(dim=1).values).max() < 1e-3  # R = G = B
    assert (rgb_to_lab(gray)[:, 0] - rgb_to_lab(IMAGES / 255)[:, 0]).abs().max() < 0.05  # the image's lightness
    assert len(method.bins) == 261 and target.shape == (16, 261, 2, 2)  # 16 px -> the CNN's 2×2 map
    assert torch.allclose(target.sum(dim=1), torch.ones(16, 2, 2))
    assert ((target > 0).sum(dim=1) == 5).all()
    # the most likely target bin is the one nearest the pooled ab of each 8×8 region
    ab = F.avg_pool2d(rgb_to_lab(IMAGES / 255)[:, 1:], 8)
    nearest = torch.cdist(ab.permute(0, 2, 3, 1).reshape(-1, 2), method.bins).argmin(dim=1)
    assert torch.equal(target.argmax(dim=1).flatten(), nearest)


def test_decoding_the_one_hot_of_the_true_bin_gives_back_the_image_within_quantisation_error():
    method = _build()
    rgb = IMAGES.float() / 255
    lab = rgb_to_lab(rgb)
    pixels_ab = lab[:, 1:].permute(0, 2, 3, 1).reshape(-1, 2)
    true_bin = torch.cdist(pixels_ab, method.bins).argmin(dim=1).view(16, 16, 16)
    one_hot = F.one_hot(true_bin, len(method.bins)).permute(0, 3, 1, 2).float()
    decoded = method.decode(one_hot.log(), lab[:, :1])
    ab_error = (rgb_to_lab(decoded)[:, 1:] - lab[:, 1:]).norm(dim=1)
    half_diagonal = 10 / 2 * math.sqrt(2)
    assert ab_error.max() <= half_diagonal + 0.5  # + the rounding of out-of-gamut bin centres back into sRGB
    assert (decoded - rgb).abs().mean() < 0.03


def test_rebalancing_up_weights_rare_colours_from_the_ab_seen_so_far():
    method = _build()
    assert method.bin_counts.sum() == 0
    views = method.make_views(IMAGES, torch.Generator().manual_seed(0))
    weights = method._pixel_weights(views["target"])
    assert method.bin_counts.sum() == pytest.approx(16 * 2 * 2)  # each position adds one unit of soft mass
    method._pixel_weights(views["target"])
    assert method.bin_counts.sum() == pytest.approx(2 * 16 * 2 * 2)  # a running histogram
    prior = method.prior_smoothing @ method.bin_counts
    frequency = prior[views["target"].argmax(dim=1)].flatten()
    order = frequency.argsort()
    assert frequency[order[0]] < frequency[order[-1]]
    assert (weights.flatten()[order].diff() <= 1e-6).all()  # the rarer the colour, the larger its weight
    assert not hasattr(_build("method.rebalance=false"), "bin_counts")


def test_training_on_a_fixed_batch_drives_the_loss_down():
    method = _build("method.rebalance=false")
    losses, history = train_on_fixed_batch(method, IMAGES)
    metrics = history[-1]
    assert losses[-1] < losses[0] - 1.0  # in nats; the floor is the soft targets' own entropy (≈ 1.2)
    assert metrics["bin_accuracy"].dim() == 0


def test_embedding_sees_only_the_lightness():
    method = _build()
    method.eval()
    x = torch.randn(2, 3, 16, 16)
    gray = normalize(lightness_image(rgb_to_lab(denormalize(x).clamp(0, 1))))
    assert torch.allclose(method.embed(x), method.embed(gray), atol=1e-3)
    assert not torch.allclose(method.embed(x), method.encoder(x), atol=1e-3)


def test_preview_shows_gray_input_target_and_prediction():
    panels = _build().preview(IMAGES[0], torch.Generator().manual_seed(0))
    assert [p.group for p in panels] == ["input", "target", "prediction"]
    assert "261 bins at 2×2" in panels[1].title and "T = 0.38" in panels[2].title
    assert all(p.image.shape == (16, 16, 3) and 0 <= p.image.min() and p.image.max() <= 1 for p in panels)


def test_state_dict_round_trip_keeps_the_colour_statistics_and_the_predictions():
    a = _build()
    a.training_step(IMAGES, torch.Generator().manual_seed(1))
    b = _build("train.seed=5")
    b.load_state_dict(a.state_dict())
    assert torch.equal(a.bin_counts, b.bin_counts) and a.bin_counts.sum() > 0
    a.eval(), b.eval()
    gray = a.make_views(IMAGES, torch.Generator().manual_seed(2))["gray"]
    assert torch.equal(a.logits(gray), b.logits(gray))
