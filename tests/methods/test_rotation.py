"""RotNet (Gidaris et al. 2018): all four rotations of each image, a 4-way classifier."""

import pytest
import torch

from labbench.augment import denormalize
from labbench.data.shapes import generate_shapes
from labbench.methods.rotation import Rotation
from tests.methods.conftest import build_tiny, train_on_fixed_batch

IMAGES = generate_shapes(16, 16, seed=0).images
pytestmark = pytest.mark.usefixtures("one_thread")


def _build(*overrides: str) -> Rotation:
    return build_tiny("rotation", 16, *overrides)


def test_training_input_is_all_four_rotations_of_each_crop():
    views = _build().make_views(IMAGES, torch.Generator().manual_seed(0))
    rotated, labels = views["rotated"], views["labels"]
    assert rotated.shape == (64, 3, 16, 16)
    assert torch.equal(labels, torch.arange(4).repeat_interleave(16))
    crops = rotated[:16]
    for k in range(4):
        assert torch.equal(rotated[labels == k], torch.rot90(crops, k, dims=(2, 3)))


def test_default_views_are_crop_and_flip_with_colours_untouched():
    whole = ["augment.crop_scale=[1.0, 1.0]", "augment.crop_ratio=[1.0, 1.0]", "augment.flip_p=0.0"]
    crops = _build(*whole).make_views(IMAGES, torch.Generator().manual_seed(0))["rotated"][:16]
    assert (denormalize(crops) - IMAGES / 255).abs().max() < 1e-5
    jittered = _build(*whole, "method.color_augment=true", "augment.jitter_p=1.0")
    crops = jittered.make_views(IMAGES, torch.Generator().manual_seed(0))["rotated"][:16]
    assert (denormalize(crops) - IMAGES / 255).abs().max() > 0.1


def test_training_on_a_fixed_batch_drives_the_loss_down():
    method = _build("method.head_layers=2")
    losses, history = train_on_fixed_batch(method, IMAGES)
    metrics = history[-1]
    assert all(torch.isfinite(torch.tensor(losses)))
    assert losses[-1] < 0.5 * losses[0]
    assert metrics["rotation_accuracy"].dim() == 0 and metrics["rotation_accuracy"] > 0.5


def test_preview_shows_the_four_rotations_with_their_labels():
    panels = _build().preview(IMAGES[0], torch.Generator().manual_seed(0))
    assert [p.title for p in panels] == [f"rotated {90 * k}° — label {k}" for k in range(4)]
    assert all(p.group == "rotations" and p.image.shape == (16, 16, 3) for p in panels)
    assert torch.equal(torch.from_numpy(panels[1].image), torch.rot90(torch.from_numpy(panels[0].image), 1))


def test_state_dict_round_trip_gives_the_same_predictions():
    a = _build()
    a.training_step(IMAGES, torch.Generator().manual_seed(1))  # moves the batch-norm statistics
    b = _build("train.seed=5")
    b.load_state_dict(a.state_dict())
    a.eval(), b.eval()
    x = torch.randn(4, 3, 16, 16)
    assert torch.equal(a.classifier(a.embed(x)), b.classifier(b.embed(x)))
