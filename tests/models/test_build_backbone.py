import pytest
import torch

from labbench.config import BackboneConfig
from labbench.models import VisionTransformer, build_backbone

EXPECTED_FEATURE_DIM = {
    "cnn": 8 * 16,
    "resnet18": 512,
    "resnet34": 512,
    "resnet50": 2048,
    "vit_tiny": 192,
    "vit_small": 384,
    "vit_base": 768,
}
SMALL = {"width": 16, "depth": 2}  # keeps the CNN and the ViTs tiny; resnets ignore both


@pytest.mark.parametrize("name", EXPECTED_FEATURE_DIM)
def test_every_backbone_returns_pooled_features_of_its_feature_dim(name):
    cfg = BackboneConfig(name=name, **SMALL)
    model = build_backbone(cfg, image_size=32).eval()
    with torch.no_grad():
        features = model(torch.randn(2, 3, 32, 32))
    assert model.feature_dim == EXPECTED_FEATURE_DIM[name]
    assert features.shape == (2, model.feature_dim)
    assert torch.isfinite(features).all()
    assert cfg.is_vit == isinstance(model, VisionTransformer)  # the config answers "is this a ViT?" for all


@pytest.mark.parametrize("name", ["cnn", "resnet18", "vit_tiny"])
def test_arch_kwargs_rebuild_the_same_architecture(name):
    model = build_backbone(BackboneConfig(name=name, **SMALL), image_size=32).eval()
    twin = type(model)(**model.arch_kwargs()).eval()
    twin.load_state_dict(model.state_dict())  # strict: same modules, same shapes
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(twin(x), model(x))


@pytest.mark.parametrize("name", ["cnn", "resnet18", "vit_tiny"])
def test_gradient_reaches_every_parameter(name):
    model = build_backbone(BackboneConfig(name=name, **SMALL), image_size=32)
    features = model(torch.randn(4, 3, 32, 32))
    # A random readout: a plain sum after a LayerNorm would have zero gradient by construction.
    (features * torch.randn_like(features)).sum().backward()
    for param_name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, param_name


@pytest.mark.parametrize("name", ["cnn", "resnet18", "vit_tiny"])
def test_channels_last_input_gives_the_same_features(name):
    model = build_backbone(BackboneConfig(name=name, **SMALL), image_size=32).eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        reference = model(x)
        model = model.to(memory_format=torch.channels_last)
        features = model(x.contiguous(memory_format=torch.channels_last))
    assert torch.allclose(features, reference, atol=1e-5)


def test_vit_depth_defaults_to_twelve_blocks_and_follows_the_config():
    assert len(build_backbone(BackboneConfig(name="vit_tiny"), 32).blocks) == 12
    assert len(build_backbone(BackboneConfig(name="vit_tiny", depth=4), 32).blocks) == 4
