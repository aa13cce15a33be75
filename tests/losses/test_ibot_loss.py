import torch
from lightly.loss.ibot_loss import IBOTPatchLoss

from labbench.losses import ibot_patch_loss

K, H, W = 12, 3, 3


def _patches() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    student = torch.randn(4, H * W, K, generator=g)
    teacher = torch.randn(4, H * W, K, generator=g)
    mask = torch.rand(4, H * W, generator=g) < 0.5
    mask[0] = False  # an image whose student saw every patch adds nothing
    mask[1, :2] = True
    return student, teacher, mask, 0.3 * torch.randn(K, generator=g)


def test_ibot_patch_loss_matches_lightly() -> None:
    # lightly takes only the masked tokens (flattened, row-major) plus the B×H×W mask and keeps
    # its own centre (zeros at start): we hand it our centre and the same masked rows.
    student, teacher, mask, center = _patches()
    theirs = IBOTPatchLoss(output_dim=K, teacher_temp=0.04, student_temp=0.1)
    theirs.center.center.copy_(center.view(1, K))
    their_loss = theirs(teacher_out=teacher[mask], student_out=student[mask], mask=mask.view(4, H, W))
    torch.testing.assert_close(ibot_patch_loss(student, teacher, mask, center), their_loss, atol=1e-5, rtol=0)


def test_visible_patches_do_not_count() -> None:
    student, teacher, mask, center = _patches()
    changed = student.clone()
    changed[~mask] = torch.randn(int((~mask).sum()), K)
    before = ibot_patch_loss(student, teacher, mask, center)
    torch.testing.assert_close(ibot_patch_loss(changed, teacher, mask, center), before)
