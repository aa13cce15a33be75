import torch
import torchvision

from labbench.models.resnet import ResNet


def _stem(model: ResNet, x: torch.Tensor) -> torch.Tensor:
    return model.maxpool(model.relu(model.bn1(model.conv1(x))))


def test_small_stem_keeps_32_px_through_the_stem():
    x = torch.randn(2, 3, 32, 32)
    small = ResNet("resnet18", small_stem=True)
    imagenet = ResNet("resnet18", small_stem=False)
    assert _stem(small, x).shape[-2:] == (32, 32)
    assert _stem(imagenet, x).shape[-2:] == (8, 8)
    assert small.feature_map(x).shape == (2, 512, 4, 4)
    assert imagenet.feature_map(x).shape == (2, 512, 1, 1)


def test_state_dict_loads_into_torchvision_resnet18_and_gives_the_same_features():
    ours = ResNet("resnet18", small_stem=False).eval()
    theirs = torchvision.models.resnet18(weights=None).eval()
    result = theirs.load_state_dict(ours.state_dict(), strict=False)
    assert sorted(result.missing_keys) == ["fc.bias", "fc.weight"]
    assert result.unexpected_keys == []
    theirs.fc = torch.nn.Identity()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(ours(x), theirs(x), atol=1e-6)


def test_small_stem_state_dict_loads_into_torchvision_with_the_cifar_stem():
    ours = ResNet("resnet18", small_stem=True)
    theirs = torchvision.models.resnet18(weights=None)
    theirs.conv1 = torch.nn.Conv2d(3, 64, 3, 1, 1, bias=False)
    result = theirs.load_state_dict(ours.state_dict(), strict=False)
    assert sorted(result.missing_keys) == ["fc.bias", "fc.weight"]
    assert result.unexpected_keys == []


def test_resnet50_features_are_2048_wide():
    model = ResNet("resnet50", small_stem=True).eval()
    with torch.no_grad():
        assert model.feature_map(torch.randn(2, 3, 32, 32)).shape == (2, 2048, 4, 4)
