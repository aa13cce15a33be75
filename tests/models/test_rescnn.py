"""The CPU backbone of the presets: its units see whole objects, which the plain small CNN's do not."""

import pytest
import torch

from labbench.models.cnn import SmallCNN
from labbench.models.rescnn import ResidualCNN


def receptive_field(model, size: int) -> tuple[int, int]:
    """(rows, columns) of input pixels whose gradient reaches the centre unit of the last feature map,
    over a few random images (so that no pixel is missed because one image's ReLUs happen to be off)."""
    x = torch.randn(8, 3, size, size, requires_grad=True)
    fmap = model.eval().feature_map(x)
    h, w = fmap.shape[-2:]
    fmap[:, :, h // 2, w // 2].sum().backward()
    seen = x.grad.abs().sum(dim=(0, 1)) > 0
    rows, cols = seen.any(dim=1).nonzero(), seen.any(dim=0).nonzero()
    return int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)


def test_residual_cnn_sees_65_pixels_and_the_small_cnn_17():
    assert receptive_field(ResidualCNN(width=8), 160) == (65, 65)
    assert receptive_field(SmallCNN(width=8), 160) == (17, 17)


@pytest.mark.parametrize("size", [32, 64])
def test_at_32_and_64_pixels_a_centre_unit_of_the_residual_cnn_sees_the_whole_image(size):
    assert receptive_field(ResidualCNN(width=8), size) == (size, size)


def test_stages_double_the_width_and_halve_the_map_three_times():
    model = ResidualCNN(width=8)
    assert model.feature_map(torch.randn(2, 3, 32, 32)).shape == (2, 64, 4, 4)
    assert model.feature_dim == 64 and model.arch_kwargs() == {"width": 8}


def test_features_are_the_average_of_the_last_map_at_any_size():
    model = ResidualCNN(width=8).eval()
    x = torch.randn(2, 3, 24, 24)
    with torch.no_grad():
        assert torch.allclose(model(x), model.feature_map(x).mean((2, 3)))
    assert model(torch.randn(2, 3, 17, 17)).shape == (2, 64)
