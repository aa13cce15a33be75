"""Schedules as arrays computed once (as DINO's ``cosine_scheduler``), indexed by step in the loop."""

from __future__ import annotations

import math

import numpy as np


def cosine_schedule(
    base: float, final: float, total_steps: int, warmup_steps: int = 0, warmup_start: float = 0.0
) -> np.ndarray:
    """Linear warm-up from ``warmup_start`` to ``base``, then half a cosine from ``base`` to ``final``."""
    warmup_steps = min(warmup_steps, total_steps)
    warm = np.linspace(warmup_start, base, warmup_steps, endpoint=False)
    rest = total_steps - warmup_steps
    t = np.arange(rest) / max(rest, 1)
    cos = final + 0.5 * (base - final) * (1 + np.cos(math.pi * t))
    return np.concatenate([warm, cos]).astype(np.float64)


def momentum_schedule(base: float, total_steps: int, final: float = 1.0) -> np.ndarray:
    """EMA momentum rising from ``base`` to ``final`` along a cosine (BYOL, DINO)."""
    return cosine_schedule(base, final, total_steps)
