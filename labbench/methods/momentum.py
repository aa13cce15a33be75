"""Momentum (EMA) teachers: MoCo's key encoder, BYOL's target network, DINO's teacher."""

from __future__ import annotations

import copy

import torch
from torch import nn

from labbench.methods.base import Method
from labbench.schedules import momentum_schedule


def frozen_copy(module: nn.Module) -> nn.Module:
    """A copy of ``module`` that receives no gradient: updated only by :func:`ema_update`."""
    teacher = copy.deepcopy(module)
    for p in teacher.parameters():
        p.requires_grad_(False)
    return teacher


@torch.no_grad()
def ema_update(teacher: nn.Module, student: nn.Module, momentum: float) -> None:
    """θ_teacher ← m·θ_teacher + (1−m)·θ_student (MoCo eq. 2); buffers (BN statistics) are copied."""
    t_params = [p for p in teacher.parameters()]
    s_params = [p.detach() for p in student.parameters()]
    torch._foreach_lerp_(t_params, s_params, 1.0 - momentum)
    for t_buf, s_buf in zip(teacher.buffers(), student.buffers()):
        t_buf.copy_(s_buf)


class MomentumSchedule:
    """The EMA momentum at each step: constant, or cosine from ``base`` to 1 (BYOL, DINO)."""

    def __init__(self, base: float, cosine: bool) -> None:
        self.base = base
        self.cosine = cosine
        self._table: dict[int, object] = {}

    def __call__(self, step: int, total_steps: int) -> float:
        if not self.cosine:
            return self.base
        if total_steps not in self._table:
            self._table = {total_steps: momentum_schedule(self.base, total_steps)}
        return float(self._table[total_steps][min(step, total_steps - 1)])


class MomentumMethod(Method):
    """Base of the methods whose frozen copies follow online modules by EMA after every optimiser step.

    ``__init__`` calls :meth:`start_momentum`; :meth:`ema_pairs` names the (frozen copy, online module) pairs.
    """

    def start_momentum(self, base: float, cosine: bool) -> None:
        """The momentum: ``base`` throughout, or from ``base`` to 1 along a cosine over training."""
        self.momentum_schedule = MomentumSchedule(base, cosine)
        self._momentum = base

    def ema_pairs(self) -> list[tuple[nn.Module, nn.Module]]:
        """(frozen copy, online module) pairs, each copy made with :func:`frozen_copy`."""
        raise NotImplementedError

    def after_step(self, step: int, total_steps: int) -> None:
        self._momentum = self.momentum_schedule(step, total_steps)
        for frozen, online in self.ema_pairs():
            ema_update(frozen, online, self._momentum)

    def current_momentum(self) -> float:
        return self._momentum
