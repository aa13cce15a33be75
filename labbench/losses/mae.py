"""MAE's pixel reconstruction loss on the removed patches."""

from __future__ import annotations

from torch import Tensor


def mae_loss(pred: Tensor, target: Tensor, mask: Tensor, norm_pix: bool = False) -> Tensor:
    """MAE loss (He et al. 2022, §3 and ``forward_loss`` in models_mae.py).

    Mean squared error per patch, averaged over the removed patches only. ``pred``, ``target``:
    B×N×P patchified pixels; ``mask``: B×N, 1 where the patch was removed from the encoder's input.
    ``norm_pix`` standardises each target patch by its own mean and std (the paper's better variant).

    Examples:
        >>> pred = torch.zeros(1, 2, 3); target = torch.ones(1, 2, 3)
        >>> mae_loss(pred, target, mask=torch.tensor([[1, 0]])).item()
        1.0
    """
    if norm_pix:
        mean = target.mean(dim=-1, keepdim=True)
        var = target.var(dim=-1, keepdim=True)
        target = (target - mean) / (var + 1e-6) ** 0.5
    per_patch = (pred - target).pow(2).mean(dim=-1)
    weights = mask.to(per_patch.dtype)
    return (per_patch * weights).sum() / weights.sum().clamp(min=1.0)
