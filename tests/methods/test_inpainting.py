"""Context encoders (Pathak et al. 2016): paint the masked centre back; L2 on the mask, optional adversary."""

import pytest
import torch

from labbench.data.shapes import generate_shapes
from labbench.engine.checkpoint import load_checkpoint, save_checkpoint
from labbench.methods.inpainting import Inpainting
from tests.methods.conftest import build_tiny, train_on_fixed_batch

IMAGES = generate_shapes(16, 16, seed=0).images
pytestmark = pytest.mark.usefixtures("one_thread")


def _build(*overrides: str) -> Inpainting:
    return build_tiny("inpainting", 16, *overrides)


def _step(method: Inpainting, seed: int = 0):
    return method.training_step(IMAGES, torch.Generator().manual_seed(seed))


def test_masked_input_is_the_image_with_the_central_quarter_at_the_mean():
    views = _build().make_views(IMAGES, torch.Generator().manual_seed(0))
    mask, image, masked = views["mask"], views["image"], views["masked"]
    assert mask.shape == (16, 1, 16, 16) and mask[:, :, 4:12, 4:12].all() and mask.sum() == 16 * 64
    assert torch.equal(masked, torch.where(mask, torch.zeros_like(image), image))
    blocks = _build("method.mask=random_blocks").make_views(IMAGES, torch.Generator().manual_seed(0))["mask"]
    assert not torch.equal(blocks[0], blocks[1]) and blocks.float().mean() <= 0.25


def test_loss_only_counts_the_masked_region(monkeypatch):
    method = _build("method.adversarial_weight=0")
    views = method.make_views(IMAGES, torch.Generator().manual_seed(0))
    image, mask = views["image"], views["mask"]

    def loss_painting(picture):
        monkeypatch.setattr(method, "paint", lambda masked: picture)
        return _step(method)[0]

    noise = torch.randn_like(image)
    assert loss_painting(torch.where(mask, image, noise)) == 0  # perfect inside, garbage outside
    base = loss_painting(noise)
    assert loss_painting(noise + 5 * (~mask)) == base  # outside the mask: no effect
    assert loss_painting(noise + 5 * mask) > base  # inside: counted


def test_decoder_paints_at_the_image_size_for_cnn_and_vit():
    for method in (_build(), _build("data.image_size=32"),
                   _build("backbone.name=vit_tiny", "backbone.depth=1", "backbone.patch_size=4")):
        size = method.image_size
        assert method.paint(torch.zeros(2, 3, size, size)).shape == (2, 3, size, size)


def test_discriminator_is_optional_and_steps_with_its_own_optimiser():
    assert _build("method.adversarial_weight=0").discriminator is None
    method = _build()
    own = {id(p) for p in method.discriminator.parameters()}
    shared = [p for group in method.param_groups(0.0) for p in group["params"]]
    assert shared and not own & {id(p) for p in shared}  # the trainer's optimiser never sees them
    before = [p.clone() for p in method.discriminator.parameters()]
    loss, metrics = _step(method)
    assert not any(torch.equal(b, p) for b, p in zip(before, method.discriminator.parameters()))
    assert {"masked_l2", "discriminator_loss", "adversarial_loss"} <= metrics.keys()
    loss.backward()
    assert all(p.grad is None for p in method.discriminator.parameters())  # the painter's loss leaves it alone
    assert method.encoder.features[0].weight.grad is not None


def test_discriminator_optimiser_state_travels_in_the_checkpoint_and_resumes_exactly(tmp_path):
    a = _build()
    for seed in (1, 2):
        _step(a, seed)
    assert a.state_dict()["discriminator._extra_state"]["state"]  # Adam's moments, not just its settings
    path = save_checkpoint(tmp_path / "last.pt", {"model": a.state_dict()})
    b = _build("train.seed=9")
    b.load_state_dict(load_checkpoint(path)["model"])  # weights_only: plain tensors and values
    loss_a, loss_b = _step(a, 3)[0], _step(b, 3)[0]
    assert torch.equal(loss_a, loss_b)
    for p, q in zip(a.discriminator.parameters(), b.discriminator.parameters()):
        assert torch.equal(p, q)


def test_training_on_a_fixed_batch_drives_the_masked_l2_down():
    method = _build()
    optimizer = torch.optim.SGD(method.param_groups(0.0)[0]["params"] + method.param_groups(0.0)[1]["params"],
                                lr=0.05, momentum=0.9)
    _, history = train_on_fixed_batch(method, IMAGES, optimizer=optimizer)
    l2 = [metrics["masked_l2"].item() for metrics in history]
    assert l2[-1] < 0.7 * l2[0]


def test_reconstructions_keep_the_context_and_preview_shows_masked_target_reconstruction():
    method = _build()
    method.eval()
    with torch.no_grad():
        out = method.reconstruct(torch.randn(3, 3, 16, 16))
    mask = out["mask"][:, None]
    assert out["mask"].shape == (3, 16, 16) and out["per_image_loss"].shape == (3,)
    assert torch.equal(torch.where(mask, 0, out["pasted"]), torch.where(mask, 0, out["original"]))
    panels = _build().preview(IMAGES[0], torch.Generator().manual_seed(0))
    assert [p.group for p in panels] == ["masked", "target", "reconstruction"]
    assert all(p.image.shape == (16, 16, 3) and 0 <= p.image.min() and p.image.max() <= 1 for p in panels)
