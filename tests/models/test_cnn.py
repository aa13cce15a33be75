import torch

from labbench.models.cnn import SmallCNN


def test_stages_double_the_width_and_halve_the_map_three_times():
    model = SmallCNN(width=8)
    fmap = model.feature_map(torch.randn(2, 3, 32, 32))
    assert fmap.shape == (2, 64, 4, 4)
    assert model.feature_dim == 64


def test_features_are_the_average_of_the_last_map():
    model = SmallCNN(width=8).eval()
    x = torch.randn(2, 3, 24, 24)
    with torch.no_grad():
        assert torch.allclose(model(x), model.feature_map(x).mean((2, 3)))


def test_other_image_sizes_work():
    model = SmallCNN(width=8)
    assert model(torch.randn(2, 3, 64, 64)).shape == (2, 64)
    assert model(torch.randn(2, 3, 17, 17)).shape == (2, 64)
