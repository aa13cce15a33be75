import pytest
import torch
from lightly.loss import VICRegLoss

from labbench.losses import vicreg, vicreg_terms


def _views() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    z1 = torch.randn(32, 16, generator=g) * 0.5  # std below 1 so the variance hinge is active
    return z1, z1 + 0.1 * torch.randn(32, 16, generator=g)


def test_vicreg_matches_lightly_with_paper_defaults() -> None:
    # Both default to λ = μ = 25, ν = 1, eps = 1e-4 (the paper's values).
    z1, z2 = _views()
    torch.testing.assert_close(vicreg(z1, z2), VICRegLoss()(z1, z2), atol=1e-5, rtol=0)


def test_vicreg_matches_lightly_with_other_weights() -> None:
    z1, z2 = _views()
    ours = vicreg(z1, z2, sim_weight=1.0, var_weight=2.0, cov_weight=3.0)
    theirs = VICRegLoss(lambda_param=1.0, mu_param=2.0, nu_param=3.0)(z1, z2)
    torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=0)


def test_vicreg_total_is_weighted_sum_of_plotted_terms() -> None:
    z1, z2 = _views()
    terms = vicreg_terms(z1, z2)
    assert set(terms) == {"invariance", "variance", "covariance"}
    expected = 25 * terms["invariance"] + 25 * terms["variance"] + terms["covariance"]
    torch.testing.assert_close(vicreg(z1, z2), expected)


def test_collapsed_embeddings_pay_full_variance_penalty() -> None:
    collapsed = torch.ones(8, 4)
    assert vicreg_terms(collapsed, collapsed)["variance"].item() == pytest.approx(0.99, abs=1e-6)
