import pytest
import torch
import torch.nn.functional as F
from lightly.loss import NTXentLoss

from labbench.losses import info_nce, info_nce_from_similarities


def _three_significant_digits(x: float) -> str:
    return f"{x:.3g}"


def test_infonce_matches_lecture_example() -> None:
    # Lecture: s⁺ = 0.9, s⁻ = (0.3, 0.1, -0.2), τ = 0.1 gives L ≈ 0.0028 (0.00283 to 3 digits).
    loss = info_nce_from_similarities(torch.tensor(0.9), torch.tensor([0.3, 0.1, -0.2]), temperature=0.1)
    assert _three_significant_digits(loss.item()) == "0.00283"


def test_one_hard_negative_raises_loss_as_in_lecture() -> None:
    loss = info_nce_from_similarities(torch.tensor(0.9), torch.tensor([0.85, 0.1, -0.2]), temperature=0.1)
    assert _three_significant_digits(loss.item()) == "0.474"


def test_similarities_form_averages_over_queries() -> None:
    pos = torch.tensor([0.9, 0.9])
    negs = torch.tensor([[0.3, 0.1, -0.2], [0.85, 0.1, -0.2]])
    expected = (0.00283 + 0.474) / 2
    assert info_nce_from_similarities(pos, negs, temperature=0.1).item() == pytest.approx(expected, rel=5e-3)


def _moco_inputs() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    q, k = torch.randn(8, 16, generator=g), torch.randn(8, 16, generator=g)
    queue = F.normalize(torch.randn(32, 16, generator=g), dim=1)
    return q, k, queue


def test_moco_info_nce_is_the_lecture_form_with_queue_negatives() -> None:
    q, k, queue = _moco_inputs()
    qn, kn = F.normalize(q, dim=1), F.normalize(k, dim=1)
    per_query = [
        info_nce_from_similarities(qn[i] @ kn[i], queue @ qn[i], temperature=0.07) for i in range(len(q))
    ]
    torch.testing.assert_close(info_nce(q, k, queue, temperature=0.07), torch.stack(per_query).mean())


def test_moco_info_nce_matches_lightly_memory_bank_loss() -> None:
    # lightly's NTXentLoss with a memory bank is MoCo's loss: q·k against q·bank. Its bank is
    # filled with our queue; out0 has no grad, so lightly leaves the bank unchanged.
    q, k, queue = _moco_inputs()
    theirs = NTXentLoss(temperature=0.07, memory_bank_size=tuple(queue.shape))
    theirs.memory_bank.bank.copy_(queue)
    torch.testing.assert_close(info_nce(q, k, queue, temperature=0.07), theirs(q, k), atol=1e-5, rtol=0)


def test_moco_keys_and_queue_receive_no_gradient() -> None:
    q, k, queue = _moco_inputs()
    q.requires_grad_(True)
    k.requires_grad_(True)
    queue.requires_grad_(True)
    info_nce(q, k, queue).backward()
    assert q.grad is not None and q.grad.abs().sum() > 0
    assert k.grad is None and queue.grad is None
