"""Seeded, stratified choices of indices: capping a set at ``num_images`` and holding out an eval share.

Both work on labels alone, so a folder source can split its file list before decoding a single image.
"""

from __future__ import annotations

import torch
from torch import Tensor

from labbench.data.store import ImageSet, Split
from labbench.errors import DataError


def stratified_order(labels: Tensor | None, n: int, seed: int) -> Tensor:
    """A seeded permutation of ``range(n)`` in which every prefix keeps the class proportions.

    Each image's key is its rank within its class (in a random order) over the class size, so the
    first k positions hold about ``k * n_c / n`` images of every class c (systematic sampling).
    """
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    if labels is None or n == 0:
        return perm
    _, cls, counts = torch.unique(labels[perm], return_inverse=True, return_counts=True)
    by_class = torch.argsort(cls, stable=True)
    starts = counts.cumsum(0) - counts
    rank = torch.empty(n, dtype=torch.long)
    rank[by_class] = torch.arange(n) - starts[cls[by_class]]
    key = (rank.double() + 0.5) / counts[cls].double()
    return perm[torch.argsort(key, stable=True)]


def cap_index(labels: Tensor | None, n: int, limit: int, seed: int) -> Tensor:
    """Sorted indices of a stratified seeded subset of ``min(limit, n)`` items (``limit`` 0 = all)."""
    if limit <= 0 or limit >= n:
        return torch.arange(n)
    return stratified_order(labels, n, seed)[:limit].sort().values


def holdout_index(
    labels: Tensor | None, n: int, eval_fraction: float, seed: int, limit: int = 0
) -> tuple[Tensor, Tensor]:
    """(train, eval) sorted indices: a stratified seeded share ``eval_fraction`` held out, after
    capping the total at ``limit`` (0 = all). Both sides get at least one item."""
    total = n if limit <= 0 else min(limit, n)
    _need_two(total, n, limit)
    n_eval = min(max(round(total * eval_fraction), 1), total - 1)
    order = stratified_order(labels, n, seed)
    return order[n_eval:total].sort().values, order[:n_eval].sort().values


def official_cap(train_labels: Tensor | None, n_train: int, eval_labels: Tensor | None, n_eval: int,
                 limit: int, seed: int) -> tuple[Tensor, Tensor]:
    """(train, eval) indices of an official split capped at ``limit`` images in all, both sides
    shrunk by the same factor (``limit`` 0 = all)."""
    total = n_train + n_eval
    if limit <= 0 or limit >= total:
        return torch.arange(n_train), torch.arange(n_eval)
    _need_two(limit, total, limit)
    keep_train = min(max(round(limit * n_train / total), 1), limit - 1)
    return (cap_index(train_labels, n_train, keep_train, seed),
            cap_index(eval_labels, n_eval, limit - keep_train, seed + 1))


def holdout_split(data: ImageSet, eval_fraction: float, seed: int, limit: int = 0) -> Split:
    """Split a set without an official split: see :func:`holdout_index`."""
    train, held = holdout_index(data.labels, len(data), eval_fraction, seed, limit)
    return Split(train=_named(data.subset(train), "train"), eval=_named(data.subset(held), "eval"))


def cap_split(split: Split, limit: int, seed: int) -> Split:
    """An official split capped at ``limit`` images in all (sets are returned as they are when uncapped)."""
    train, held = official_cap(split.train.labels, len(split.train), split.eval.labels, len(split.eval), limit, seed)
    if len(train) == len(split.train) and len(held) == len(split.eval):
        return split
    return Split(train=split.train.subset(train), eval=split.eval.subset(held))


def _need_two(total: int, found: int, limit: int) -> None:
    if total < 2:
        cap = f", data.num_images = {limit}" if limit > 0 else ""
        raise DataError(f"need at least 2 images, one to train on and one to evaluate (found {found}{cap})")


def _named(data: ImageSet, part: str) -> ImageSet:
    data.name = f"{data.name}/{part}"
    return data
