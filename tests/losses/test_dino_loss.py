import math

import torch
from lightly.loss import DINOLoss

from labbench.losses import dino_loss, teacher_distribution, update_center

K = 16


def _multicrop(seed: int = 0) -> tuple[list[torch.Tensor], list[torch.Tensor], torch.Tensor]:
    """Student logits for 2 global + 4 local crops, teacher logits for the 2 globals, a centre."""
    g = torch.Generator().manual_seed(seed)
    student = [torch.randn(8, K, generator=g) for _ in range(6)]
    teacher = [torch.randn(8, K, generator=g) for _ in range(2)]
    return student, teacher, 0.3 * torch.randn(K, generator=g)


def _entropy(p: torch.Tensor) -> torch.Tensor:
    return -torch.special.xlogy(p, p).sum(dim=-1)


def test_centred_constant_teacher_output_is_uniform() -> None:
    # DINO's collapse argument: if the teacher emits the same vector for every image, the running
    # centre converges to it, and centring turns it into the uniform distribution (entropy log K),
    # which the sharpening then has to fight: neither collapse can win on its own.
    constant = torch.zeros(8, K)
    constant[:, 3] = 5.0
    center = torch.zeros(K)
    for _ in range(200):
        center = update_center(center, [constant, constant], momentum=0.9)
    centred = teacher_distribution(constant, center, teacher_temp=0.04)
    torch.testing.assert_close(_entropy(centred), torch.full((8,), math.log(K)))
    uncentred = teacher_distribution(constant, torch.zeros(K), teacher_temp=0.04)
    assert (_entropy(uncentred) < 0.01).all()


def test_dino_loss_averages_all_pairs_of_different_views() -> None:
    student, teacher, center = _multicrop()
    expected = []
    for i, t in enumerate(teacher):
        p_t = torch.softmax((t - center) / 0.04, dim=-1)
        for j, s in enumerate(student):
            if j != i:
                expected.append(-(p_t * torch.log_softmax(s / 0.1, dim=-1)).sum(dim=-1).mean())
    assert len(expected) == 2 * 6 - 2
    torch.testing.assert_close(dino_loss(student, teacher, center), torch.stack(expected).mean())


def test_dino_loss_and_center_update_match_lightly() -> None:
    # lightly's DINOLoss keeps its own centre buffer (zeros at start) and updates it inside
    # forward; we load our centre into the buffer first, then compare the loss and the new centre.
    student, teacher, center = _multicrop()
    theirs = DINOLoss(output_dim=K, warmup_teacher_temp=0.04, teacher_temp=0.04, student_temp=0.1, center_momentum=0.9)
    theirs.center.copy_(center.view(1, 1, K))
    their_loss = theirs(teacher_out=teacher, student_out=student)
    ours = dino_loss(student, teacher, center, student_temp=0.1, teacher_temp=0.04)
    torch.testing.assert_close(ours, their_loss, atol=1e-5, rtol=0)
    torch.testing.assert_close(update_center(center, teacher, momentum=0.9), theirs.center.view(K), atol=1e-5, rtol=0)


def test_teacher_receives_no_gradient() -> None:
    student, teacher, center = _multicrop()
    for t in student + teacher:
        t.requires_grad_(True)
    dino_loss(student, teacher, center).backward()
    assert all(s.grad is not None for s in student)
    assert all(t.grad is None for t in teacher)
