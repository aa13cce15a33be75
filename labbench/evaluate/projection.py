"""2-D maps of encoder features for the embedding viewer: PCA, t-SNE, UMAP; and retrieval by similarity.

Every projection keeps the points in the order given, so ``points[i]``, ``labels[i]`` and
``indices[i]`` describe the same image. t-SNE (van der Maaten & Hinton 2008) and UMAP (McInnes
et al. 2018) first reduce to 50 PCA dimensions, as both papers recommend for wide features.
"""

from __future__ import annotations

import io
import re
import sys
import threading
from collections.abc import Callable
from contextlib import redirect_stdout
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from labbench.errors import ConfigError

ProjectionMethod = Literal["pca", "tsne", "umap"]
PROJECTIONS: tuple[str, ...] = ("pca", "tsne", "umap")
Progress = Callable[[int, int], bool]

#: width of the PCA step before t-SNE / UMAP
PRE_PCA_DIMS = 50


@dataclass
class Projection:
    """``points`` N×2 float32, ``labels`` N int64 (or None), ``indices`` N int64 into the image set."""

    points: np.ndarray
    labels: np.ndarray | None
    indices: np.ndarray
    method: str


def pca(features: Tensor | np.ndarray, dims: int = 2, seed: int = 0) -> np.ndarray:
    """The ``dims`` leading principal components of ``features`` (N×D) as float32 N×dims."""
    x = torch.as_tensor(features).float().cpu()
    x = x - x.mean(dim=0)
    dims_avail = min(dims, *x.shape)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        u, s, _ = torch.pca_lowrank(x, q=min(dims_avail + 10, *x.shape), center=False, niter=4)
    out = (u[:, :dims_avail] * s[:dims_avail]).numpy().astype(np.float32)
    if dims_avail < dims:  # fewer features or points than asked: pad with zeros, keep the shape
        out = np.pad(out, ((0, 0), (0, dims - dims_avail)))
    return out


class _ProgressLines(io.TextIOBase):
    """A stdout that reads a library's progress lines, reports them, and cancels by raising there.

    Only the thread that runs the projection is intercepted; other threads' output passes through.
    """

    def __init__(self, pattern: str | None, total: int, progress: Progress | None, passthrough) -> None:
        self.pattern = None if pattern is None else re.compile(pattern)
        self.total = total
        self.progress = progress
        self.passthrough = passthrough
        self.owner = threading.get_ident()

    def write(self, text: str) -> int:
        if threading.get_ident() != self.owner:
            return self.passthrough.write(text)
        for match in () if self.pattern is None else self.pattern.finditer(text):
            done = min(int(match.group(1)), self.total)
            if self.progress is not None and self.progress(done, self.total) is False:
                raise InterruptedError("projection cancelled")
        return len(text)


def _tsne(x: np.ndarray, seed: int, perplexity: float, progress: Progress | None) -> np.ndarray:
    from sklearn.manifold import TSNE

    max_iter = 1000
    perplexity = min(perplexity, max(1.0, (len(x) - 1) / 3))  # sklearn requires perplexity < n
    tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed, max_iter=max_iter, verbose=2)
    # sklearn reports "[t-SNE] Iteration 50: error = …" every 50 iterations, only on stdout
    with redirect_stdout(_ProgressLines(r"Iteration (\d+)", max_iter, progress, sys.stdout)):
        return tsne.fit_transform(x)


class _TqdmFile(io.TextIOBase):
    """The file UMAP's tqdm bar writes to: reads ``done/total`` from each refresh, cancels by raising."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress

    def write(self, text: str) -> int:
        match = re.search(r"(\d+)/(\d+)", text)
        if match and self.progress is not None and self.progress(int(match.group(1)), int(match.group(2))) is False:
            raise InterruptedError("projection cancelled")
        return len(text)


def _umap(x: np.ndarray, seed: int, n_neighbors: int, progress: Progress | None) -> np.ndarray:
    try:
        import umap
    except ImportError:
        raise ConfigError(
            "UMAP needs the umap-learn package, which is not installed: pip install umap-learn "
            "(or choose PCA or t-SNE)"
        ) from None
    reducer = umap.UMAP(
        n_components=2, n_neighbors=min(n_neighbors, len(x) - 1), random_state=seed, n_jobs=1,
        verbose=progress is not None,
        tqdm_kwds={"file": _TqdmFile(progress), "mininterval": 0.0, "miniters": 1},
    )
    # UMAP's own notes go to stdout when verbose; only the bar is read
    with redirect_stdout(_ProgressLines(None, 1, None, sys.stdout)):
        return reducer.fit_transform(x)


def project(
    features: Tensor | np.ndarray,
    method: ProjectionMethod = "pca",
    labels: Tensor | np.ndarray | None = None,
    indices: Tensor | np.ndarray | None = None,
    *,
    seed: int = 0,
    perplexity: float = 30.0,
    n_neighbors: int = 15,
    progress: Progress | None = None,
) -> Projection:
    """2-D points of ``features`` (N×D) by PCA, t-SNE or UMAP, with labels and indices carried along.

    PCA is immediate; t-SNE and UMAP take tens of seconds for 20 000 points and report
    ``progress(done, total)`` along the way (returning False cancels with ``InterruptedError``).
    """
    if method not in PROJECTIONS:
        raise ConfigError(f"projection: choose one of {', '.join(PROJECTIONS)} (got {method!r})")
    n = len(features)
    idx = np.arange(n, dtype=np.int64) if indices is None else np.asarray(indices, dtype=np.int64)
    lab = None if labels is None else np.asarray(labels, dtype=np.int64)
    if len(idx) != n or (lab is not None and len(lab) != n):
        raise ValueError(f"project: {n} features but {len(idx)} indices and {None if lab is None else len(lab)} labels")
    if n < 3 or method == "pca":
        points = pca(features, 2, seed)
    else:
        x = pca(features, PRE_PCA_DIMS, seed)
        points = _tsne(x, seed, perplexity, progress) if method == "tsne" else _umap(x, seed, n_neighbors, progress)
    if progress is not None and progress(1, 1) is False:
        raise InterruptedError("projection cancelled")
    return Projection(np.ascontiguousarray(points, dtype=np.float32), lab, idx, method)


def nearest_neighbours(features: Tensor | np.ndarray, index: int, k: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` rows most cosine-similar to row ``index`` (itself excluded): (indices, similarities), best first."""
    x = F.normalize(torch.as_tensor(features).float().cpu(), dim=1)
    sim = x @ x[index]
    sim[index] = -float("inf")
    k = min(k, len(x) - 1)
    best = sim.topk(k)
    return best.indices.numpy(), best.values.numpy()
