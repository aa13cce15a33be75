"""How long a run is and what every schedule is at each step: arrays computed once (as DINO's
``cosine_scheduler``), and again when a time budget shows how many steps fit.

Schedules the papers state in epochs (lr warm-up, DINO's teacher-temperature warm-up and frozen last
layer) run on the *planned* epochs: a run fitted to fewer steps than ``train.epochs`` would take keeps
every schedule's shape, compressed — a 1-epoch warm-up of a 20-epoch plan stays 5 % of the run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from labbench.engine.optim import scaled_lr
from labbench.run_config import RunConfig
from labbench.schedules import cosine_schedule


@dataclass(frozen=True)
class Plan:
    """``total_steps`` of ``steps_per_epoch`` each, over ``cfg.train.epochs`` planned epochs, and the
    learning rate and weight decay at every step (``weight_decay`` None = constant)."""

    steps_per_epoch: int
    total_steps: int
    epochs: int
    lr: np.ndarray
    weight_decay: np.ndarray | None

    @classmethod
    def make(cls, cfg: RunConfig, steps_per_epoch: int, total_steps: int | None = None) -> Plan:
        """The plan of ``total_steps`` (default: every epoch, capped by ``train.max_steps``)."""
        epochs = cfg.train.epochs
        if total_steps is None:
            total_steps = min(epochs * steps_per_epoch, cfg.train.max_steps or math.inf)
        peak = scaled_lr(cfg.optim, cfg.train.batch_size)
        warmup = round(cfg.optim.warmup_epochs / epochs * total_steps)
        wd_end = cfg.optim.weight_decay_end
        return cls(
            steps_per_epoch=steps_per_epoch,
            total_steps=int(total_steps),
            epochs=epochs,
            lr=cosine_schedule(peak, peak * cfg.optim.min_lr_ratio, int(total_steps), warmup),
            weight_decay=None if wd_end is None else cosine_schedule(cfg.optim.weight_decay, wd_end, int(total_steps)),
        )

    def schedule_epoch(self, step: int) -> float:
        """``step`` on the clock of the schedules stated in epochs: the share of the plan done × planned epochs."""
        return step * self.epochs / self.total_steps

    def stopped_at(self, step: int) -> Plan:
        """The same schedules, ending at ``step`` (a time budget ran out)."""
        return Plan(self.steps_per_epoch, step, self.epochs, self.lr, self.weight_decay)
