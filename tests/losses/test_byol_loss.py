import torch
from lightly.loss import NegativeCosineSimilarity

from labbench.losses import byol_loss, negative_cosine


def _outputs() -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return [torch.randn(16, 32, generator=g) for _ in range(4)]


def test_negative_cosine_matches_lightly() -> None:
    p, z, _, _ = _outputs()
    torch.testing.assert_close(negative_cosine(p, z), NegativeCosineSimilarity()(p, z), atol=1e-5, rtol=0)


def test_byol_loss_is_the_normalised_mse_of_both_directions() -> None:
    # BYOL eq. 2: ‖p̄ - z̄‖² per pair, summed over the two view orders, mean over the batch.
    p1, p2, z1, z2 = _outputs()

    def mse(p: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return (p / p.norm(dim=1, keepdim=True) - z / z.norm(dim=1, keepdim=True)).pow(2).sum(dim=1)

    torch.testing.assert_close(byol_loss(p1, p2, z1, z2), (mse(p1, z2) + mse(p2, z1)).mean())


def test_byol_loss_relates_to_lightly_symmetric_negative_cosine() -> None:
    # lightly's BYOL example uses 0.5·(D(p0, z1) + D(p1, z0)); BYOL's sum of 2 - 2cos is 4 + 4× that.
    p1, p2, z1, z2 = _outputs()
    criterion = NegativeCosineSimilarity()
    lightly_byol = 0.5 * (criterion(p1, z2) + criterion(p2, z1))
    torch.testing.assert_close(byol_loss(p1, p2, z1, z2), 4 + 4 * lightly_byol, atol=1e-5, rtol=0)


def test_target_branch_receives_no_gradient() -> None:
    p1, p2, z1, z2 = (t.requires_grad_(True) for t in _outputs())
    byol_loss(p1, p2, z1, z2).backward()
    assert p1.grad is not None and p2.grad is not None
    assert z1.grad is None and z2.grad is None
