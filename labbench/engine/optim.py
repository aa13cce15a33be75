"""Optimisers: SGD, AdamW and LARS (You et al. 2017, as SimCLR and BYOL use it)."""

from __future__ import annotations

import torch

from labbench.config import OptimConfig


class LARS(torch.optim.Optimizer):
    """Layer-wise adaptive rate scaling: SGD with momentum whose step per layer is scaled by
    ``trust * ||w|| / ||g + wd·w||``. Groups with ``lars_exclude`` (biases, norms) take plain SGD steps,
    as in SimCLR's reference implementation."""

    def __init__(self, params, lr: float, momentum: float = 0.9, weight_decay: float = 0.0, trust: float = 0.001):
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay, trust=trust, lars_exclude=False))

    @torch.no_grad()
    def step(self, closure=None):  # noqa: D102
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            # multi-tensor kernels: a few launches per group instead of several per parameter, which
            # on a GPU would cost more host time than a small model's whole forward pass
            grads = [p.grad for p in params]
            if group["weight_decay"]:
                grads = torch._foreach_add(grads, params, alpha=group["weight_decay"])
            if not group["lars_exclude"]:
                w_norm = torch.stack(torch._foreach_norm(params))
                g_norm = torch.stack(torch._foreach_norm(grads))
                ratio = torch.where((w_norm > 0) & (g_norm > 0), group["trust"] * w_norm / g_norm, 1.0)
                grads = torch._foreach_mul(grads, list(ratio.to(grads[0].dtype).unbind()))
            state = [self.state[p] for p in params]
            old = [(st["momentum_buffer"], g) for st, g in zip(state, grads) if "momentum_buffer" in st]
            if old:
                bufs, old_grads = (list(t) for t in zip(*old))
                torch._foreach_mul_(bufs, group["momentum"])
                torch._foreach_add_(bufs, old_grads)
            for st, g in zip(state, grads):
                if "momentum_buffer" not in st:  # a parameter's first step (some start late: DINO's last layer)
                    st["momentum_buffer"] = g.clone()
            torch._foreach_add_(params, [st["momentum_buffer"] for st in state], alpha=-group["lr"])
        return loss


def scaled_lr(cfg: OptimConfig, batch_size: int) -> float:
    """The linear scaling rule: ``lr × batch / 256`` (SimCLR, MoCo, BYOL, DINO, MAE all state base lr this way)."""
    return cfg.lr * batch_size / 256


def build_optimizer(param_groups: list[dict], cfg: OptimConfig, batch_size: int, fused: bool = False):
    """The configured optimiser over ``param_groups``; ``fused`` kernels on CUDA."""
    lr = scaled_lr(cfg, batch_size)
    if cfg.name == "lars":
        return LARS(param_groups, lr=lr, momentum=cfg.momentum)
    groups = [{k: v for k, v in g.items() if k != "lars_exclude"} for g in param_groups]
    if cfg.name == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=cfg.momentum, fused=fused or None)
    return torch.optim.AdamW(groups, lr=lr, betas=cfg.betas, fused=fused or None)
