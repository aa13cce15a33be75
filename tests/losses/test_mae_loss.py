import pytest
import torch
from lightly.models import utils

from labbench.losses import mae_loss


def _batch() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Predictions for every patch of 4 images 3×16×16 (4×4 patches), targets, removed-patch mask."""
    torch.manual_seed(0)  # lightly's random_token_mask draws from the global generator
    images = torch.rand(4, 3, 16, 16)
    target = utils.patchify(images, patch_size=4)
    pred = torch.randn_like(target)
    _, idx_mask = utils.random_token_mask(size=(4, 1 + 16), mask_ratio=0.75)  # slot 0 is the class token
    mask = torch.zeros(4, 16).scatter_(1, idx_mask - 1, 1.0)
    return pred, target, mask


def test_mae_loss_matches_lightly_mse_on_masked_patches() -> None:
    # lightly's MAE decodes only the masked tokens and applies nn.MSELoss to them and their
    # patchified targets; every image masks the same number of patches, so the means agree.
    pred, target, mask = _batch()
    idx_mask = mask.nonzero()[:, 1].view(4, -1)
    theirs = torch.nn.MSELoss()(utils.get_at_index(pred, idx_mask), utils.get_at_index(target, idx_mask))
    torch.testing.assert_close(mae_loss(pred, target, mask), theirs, atol=1e-5, rtol=0)


def test_kept_patches_do_not_count() -> None:
    pred, target, mask = _batch()
    perfect_on_masked = torch.where(mask.bool().unsqueeze(-1), target, pred)
    assert mae_loss(perfect_on_masked, target, mask).item() == 0.0
    assert mae_loss(perfect_on_masked, target, torch.ones_like(mask)).item() > 0.0


def test_norm_pix_compares_against_per_patch_standardised_targets() -> None:
    pred, target, mask = _batch()
    brighter = 3 * target + 0.5  # per-patch affine change: invisible after normalisation
    assert mae_loss(pred, brighter, mask, norm_pix=True).item() == pytest.approx(
        mae_loss(pred, target, mask, norm_pix=True).item(), rel=1e-4
    )
    assert mae_loss(pred, brighter, mask).item() != pytest.approx(mae_loss(pred, target, mask).item(), rel=1e-2)
