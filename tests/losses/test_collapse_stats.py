import math

import pytest
import torch

from labbench.losses import alignment, effective_rank, embedding_std, uniformity


def test_effective_rank_of_identity_like_matrix_is_its_dimension() -> None:
    z = torch.eye(16) + 0.01 * torch.randn(16, 16, generator=torch.Generator().manual_seed(0))
    assert effective_rank(z).item() == pytest.approx(16, abs=0.1)


def test_effective_rank_of_rank_one_matrix_is_one() -> None:
    g = torch.Generator().manual_seed(0)
    z = torch.randn(64, 1, generator=g) * torch.randn(1, 16, generator=g)
    assert effective_rank(z).item() == pytest.approx(1, abs=0.01)


def test_embedding_std_of_gaussian_is_one_over_sqrt_dim() -> None:
    d = 64
    z = torch.randn(4096, d, generator=torch.Generator().manual_seed(0))
    assert embedding_std(z).item() == pytest.approx(1 / math.sqrt(d), rel=0.02)


def test_embedding_std_is_zero_when_collapsed() -> None:
    assert embedding_std(torch.ones(32, 8) * torch.rand(32, 1) + 1).item() == pytest.approx(0.0, abs=1e-6)


def test_alignment_is_zero_for_same_direction_and_four_for_opposite() -> None:
    z = torch.randn(8, 5, generator=torch.Generator().manual_seed(0))
    assert alignment(z, 2 * z).item() == pytest.approx(0.0, abs=1e-6)
    assert alignment(z, -z).item() == pytest.approx(4.0, rel=1e-6)


def test_uniformity_falls_from_zero_when_collapsed_to_minus_2t_when_spread() -> None:
    collapsed = torch.ones(32, 8)
    spread = torch.randn(512, 256, generator=torch.Generator().manual_seed(0))
    assert uniformity(collapsed).item() == pytest.approx(0.0, abs=1e-5)
    assert uniformity(spread, t=2).item() == pytest.approx(-4.0, abs=0.1)


def test_uniformity_gradient_is_finite_at_collapse() -> None:
    z = torch.ones(4, 3, requires_grad=True)
    uniformity(z).backward()
    assert torch.isfinite(z.grad).all()
