import math

import pytest
import torch
from lightly.loss import NTXentLoss

from labbench.losses import nt_xent


def _views(n: int = 6, d: int = 8, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g), torch.randn(n, d, generator=g)


def _nt_xent_loop(z1: torch.Tensor, z2: torch.Tensor, tau: float) -> float:
    """SimCLR eq. 1 written out: every view against all others, its twin in the numerator."""
    z = [v.double() / v.double().norm() for v in torch.cat([z1, z2])]
    n = len(z1)
    total = 0.0
    for i in range(2 * n):
        twin = (i + n) % (2 * n)
        denom = sum(math.exp(float(z[i] @ z[k]) / tau) for k in range(2 * n) if k != i)
        total += -math.log(math.exp(float(z[i] @ z[twin]) / tau) / denom)
    return total / (2 * n)


@pytest.mark.parametrize("tau", [0.1, 0.5, 1.0])
def test_nt_xent_matches_loop_over_formula(tau: float) -> None:
    z1, z2 = _views()
    assert nt_xent(z1, z2, tau).item() == pytest.approx(_nt_xent_loop(z1, z2, tau), rel=1e-5)


@pytest.mark.parametrize("tau", [0.1, 0.5])
def test_nt_xent_matches_lightly(tau: float) -> None:
    z1, z2 = _views(n=16, d=32)
    torch.testing.assert_close(nt_xent(z1, z2, tau), NTXentLoss(temperature=tau)(z1, z2), atol=1e-5, rtol=0)


def test_two_ranks_with_gathered_keys_equal_one_process_on_whole_batch() -> None:
    # Rank r holds rows r·B…r·B+B-1 and receives the full batch as gathered keys (an all_gather
    # whose backward returns each rank its slice). DDP averages gradients over ranks, so the
    # mean of the rank losses must equal the single-process loss, gradients included.
    z1, z2 = _views(n=8)
    z1.requires_grad_(True)
    z2.requires_grad_(True)
    single = nt_xent(z1, z2, 0.5)
    grads_single = torch.autograd.grad(single, (z1, z2))

    b = 4
    per_rank = [
        nt_xent(z1[r * b:(r + 1) * b], z2[r * b:(r + 1) * b], 0.5, z1_all=z1, z2_all=z2, rank=r)
        for r in range(2)
    ]
    distributed = torch.stack(per_rank).mean()
    grads_distributed = torch.autograd.grad(distributed, (z1, z2))

    torch.testing.assert_close(distributed, single)
    for gd, gs in zip(grads_distributed, grads_single):
        torch.testing.assert_close(gd, gs)


def test_gathered_keys_add_negatives() -> None:
    z1, z2 = _views(n=8)
    local_only = nt_xent(z1[:4], z2[:4], 0.5)
    with_gathered = nt_xent(z1[:4], z2[:4], 0.5, z1_all=z1, z2_all=z2, rank=0)
    assert with_gathered > local_only


def test_nt_xent_refuses_half_gathered_keys() -> None:
    z1, z2 = _views()
    with pytest.raises(ValueError, match="both z1_all and z2_all"):
        nt_xent(z1, z2, z1_all=z1)
