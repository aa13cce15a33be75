import pytest
import torch
from lightly.loss import BarlowTwinsLoss

from labbench.losses import barlow_twins


def _views() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    z1 = torch.randn(32, 16, generator=g)
    return z1, z1 + 0.5 * torch.randn(32, 16, generator=g)


@pytest.mark.parametrize("lam", [5e-3, 0.1])
def test_barlow_twins_matches_lightly(lam: float) -> None:
    z1, z2 = _views()
    torch.testing.assert_close(barlow_twins(z1, z2, lam), BarlowTwinsLoss(lambda_param=lam)(z1, z2), atol=1e-5, rtol=0)


def test_decorrelated_identical_views_give_zero_loss() -> None:
    # Columns of a Sylvester–Hadamard matrix (the constant one dropped) have mean 0, equal norm
    # and are orthogonal, so their cross-correlation with themselves is exactly the identity.
    h = torch.ones(1, 1)
    for _ in range(3):
        h = torch.cat([torch.cat([h, h], dim=1), torch.cat([h, -h], dim=1)])
    z = h[:, 1:]
    assert barlow_twins(z, z).item() == pytest.approx(0.0, abs=1e-6)
    assert barlow_twins(z, z.roll(1, dims=1)).item() > 1.0  # same columns, mismatched: C is a permutation
