"""The collapse dashboard: is the representation spread out, or has it fallen to a point, a line, or (DINO) a uniform output?

Numbers for one checkpoint on a batch of eval images, and their history over a run's epochs:
std of L2-normalised embeddings against 1/√d (SimSiam, Chen & He 2021, §4.1), effective rank
(RankMe, Garrido et al. 2023), alignment and uniformity (Wang & Isola 2020), the similarities of
positive pairs (two views of an image) and negative pairs (views of different images), and for
DINO the teacher's entropy and centre norm (Caron et al. 2021, §3.1 and Fig. 7).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from labbench import losses
from labbench.evaluate.pairs import embed_views, two_views
from labbench.models.modes import eval_mode
from labbench.runs import read_metrics

#: std below this share of 1/√d means every input maps to (nearly) the same point
COLLAPSED_STD_SHARE = 0.1
#: effective rank below this: the embeddings lie (nearly) on a line
LINE_RANK = 1.5
#: at most this many negative-pair similarities are kept for the histogram
MAX_NEGATIVES = 20000


@dataclass
class CollapseReport:
    """Collapse signals of one checkpoint on ``n`` images; ``verdict`` says in words what they mean."""

    n: int
    dim: int
    feature_std: float
    reference_std: float  # 1/√d: the std of directions spread uniformly over the sphere
    effective_rank: float
    alignment: float
    uniformity: float
    positive_similarities: np.ndarray  # n cosine similarities, two views of the same image
    negative_similarities: np.ndarray  # cosine similarities between views of different images
    space: str
    collapsed: bool
    verdict: str
    teacher_entropy: float | None = None  # DINO: mean entropy of the teacher's output (nats)
    max_entropy: float | None = None  # log K, the uniform output's entropy
    center_norm: float | None = None
    top_prototype_share: float | None = None  # DINO: share of images whose teacher output peaks at the same prototype

    def histograms(self, bins: int = 50) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(edges over [-1, 1], positive counts, negative counts), each count normalised to a density."""
        edges = np.linspace(-1.0, 1.0, bins + 1)
        pos, _ = np.histogram(np.clip(self.positive_similarities, -1, 1), edges, density=True)
        neg, _ = np.histogram(np.clip(self.negative_similarities, -1, 1), edges, density=True)
        return edges, pos, neg

    def as_metrics(self) -> dict[str, float]:
        """The scalar numbers, for logs and the probe files."""
        names = ("feature_std", "reference_std", "effective_rank", "alignment", "uniformity",
                 "teacher_entropy", "max_entropy", "center_norm", "top_prototype_share")
        out = {name: getattr(self, name) for name in names if getattr(self, name) is not None}
        out["positive_similarity"] = float(np.mean(self.positive_similarities))
        out["negative_similarity"] = float(np.mean(self.negative_similarities))
        return out


@dataclass
class _TeacherSignals:
    entropy: float
    max_entropy: float
    center_norm: float
    top_share: float


def verdict(std: float, dim: int, rank: float, teacher: _TeacherSignals | None = None) -> tuple[bool, str]:
    """(collapsed, the verdict in plain words) from the collapse signals."""
    ref = 1.0 / math.sqrt(dim)
    if std < COLLAPSED_STD_SHARE * ref:
        return True, f"collapsed: all embeddings are nearly identical (std {std:.3f} ≪ 1/√d = {ref:.3f})"
    if dim > 1 and rank < LINE_RANK:
        return True, (f"collapsed to a line: the embeddings use about {rank:.1f} of {dim} dimensions "
                      f"(effective rank {rank:.2f})")
    if teacher is not None:
        if teacher.entropy > 0.98 * teacher.max_entropy:
            return True, (f"collapsed (uniform): the teacher's output is nearly uniform over its prototypes "
                          f"(entropy {teacher.entropy:.2f} of at most log K = {teacher.max_entropy:.2f}) — "
                          "sharpening is too weak for the centring")
        if teacher.top_share > 0.9:
            return True, (f"collapsed (one prototype): {teacher.top_share:.0%} of the images put the teacher's "
                          "peak on the same prototype — centring is too weak for the sharpening")
    return False, f"healthy: embeddings are spread (std {std:.3f} vs 1/√d = {ref:.3f}, effective rank {rank:.1f} of {dim})"


def verdict_from_metrics(metrics: dict[str, float]) -> tuple[bool, str]:
    """:func:`verdict` from the numbers of :meth:`CollapseReport.as_metrics` (e.g. an epoch's probe file)."""
    teacher = None
    if "teacher_entropy" in metrics:
        teacher = _TeacherSignals(metrics["teacher_entropy"], metrics["max_entropy"], metrics["center_norm"],
                                  metrics["top_prototype_share"])
    dim = round(metrics["reference_std"] ** -2)
    return verdict(metrics["feature_std"], dim, metrics["effective_rank"], teacher)


@torch.no_grad()
def _teacher_signals(method: nn.Module, x: Tensor, epoch: float | None) -> _TeacherSignals | None:
    """DINO's teacher: mean entropy of its centred, sharpened output, the centre's norm, and how many
    images share the most popular prototype. None for methods without a centred teacher."""
    teacher, center = getattr(method, "teacher", None), getattr(method, "center", None)
    if not isinstance(center, Tensor) or not hasattr(teacher, "head") or not hasattr(teacher, "backbone"):
        return None
    temp = method.teacher_temperature(epoch) if epoch is not None and hasattr(method, "teacher_temperature") \
        else method.cfg.teacher_temp
    probs = losses.teacher_distribution(teacher.head(teacher.backbone(x)).float(), center, temp)
    entropy = -(probs * probs.clamp_min(1e-12).log()).sum(dim=-1).mean()
    top = probs.argmax(dim=1).bincount(minlength=probs.shape[1]).max() / probs.shape[0]
    return _TeacherSignals(float(entropy), math.log(probs.shape[1]), float(center.norm()), float(top))


def collapse_report(
    method: nn.Module,
    images: Tensor,
    *,
    space: str = "encoder",
    seed: int = 0,
    epoch: float | None = None,
    device: torch.device | str = "cpu",
) -> CollapseReport:
    """Collapse signals of ``method`` on uint8 ``images`` (a batch of eval images, ≥ 2).

    Positive pairs are two views from the method's own pipeline (SimCLR's when it has no two
    same-size views); ``space`` is ``encoder`` or ``projection``. ``epoch`` sets DINO's teacher
    temperature as it was at that point of training (default: its final value).
    """
    if images.shape[0] < 2:
        raise ValueError("collapse_report: needs at least 2 images")
    device = torch.device(device)
    images = images.to(device)
    g = torch.Generator(device=device).manual_seed(seed)
    with eval_mode(method), torch.no_grad():
        views = two_views(method, images, g)
        z1, z2, used = embed_views(method, views, space)
        teacher = _teacher_signals(method, views[0], epoch)
    z = torch.cat([z1, z2])
    n1, n2 = F.normalize(z1, dim=1), F.normalize(z2, dim=1)
    pos = (n1 * n2).sum(dim=1)
    sim = n1 @ n2.T
    off = ~torch.eye(len(n1), dtype=torch.bool, device=sim.device)
    neg = sim[off]
    if len(neg) > MAX_NEGATIVES:
        neg = neg[torch.randperm(len(neg), generator=torch.Generator().manual_seed(seed))[:MAX_NEGATIVES].to(neg.device)]
    std = float(losses.embedding_std(z1))
    rank = float(losses.effective_rank(z1))
    collapsed, words = verdict(std, z.shape[1], rank, teacher)
    return CollapseReport(
        n=len(z1), dim=z.shape[1], feature_std=std, reference_std=1.0 / math.sqrt(z.shape[1]),
        effective_rank=rank, alignment=float(losses.alignment(z1, z2)), uniformity=float(losses.uniformity(z1)),
        positive_similarities=pos.cpu().numpy(), negative_similarities=neg.cpu().numpy(), space=used,
        collapsed=collapsed, verdict=words,
        **({} if teacher is None else {
            "teacher_entropy": teacher.entropy, "max_entropy": teacher.max_entropy,
            "center_norm": teacher.center_norm, "top_prototype_share": teacher.top_share,
        }),
    )


@dataclass
class CollapseHistory:
    """Per-epoch curves of a run, from ``metrics.jsonl``: ``epochs`` and one array per signal
    (NaN where an epoch lacks it)."""

    epochs: np.ndarray
    series: dict[str, np.ndarray] = field(default_factory=dict)


#: what the dashboard plots: epoch monitors, probe records, and per-step method metrics (averaged per epoch)
_EPOCH_KEYS = ("feature_std", "effective_rank", "knn_accuracy")
_STEP_KEYS = ("teacher_entropy", "center_norm")


def collapse_history(run_dir: str | Path) -> CollapseHistory:
    """The run's collapse signals per epoch: the trainer's monitors (std, effective rank, k-NN), the
    probes' alignment/uniformity/pair similarities, and step metrics (e.g. DINO's teacher entropy)
    averaged over each epoch."""
    rows: dict[int, dict[str, list[float]]] = {}

    def add(epoch: int, key: str, value) -> None:
        if isinstance(value, (int, float)):
            rows.setdefault(epoch, {}).setdefault(key, []).append(float(value))

    for record in read_metrics(run_dir):
        kind, epoch = record.get("kind"), record.get("epoch")
        if not isinstance(epoch, int):
            continue
        if kind == "epoch":
            for key in _EPOCH_KEYS:
                add(epoch, key, record.get(key))
        elif kind == "probe":
            for key, value in (record.get("metrics") or {}).items():
                add(epoch, key, value)
        elif kind == "step":
            # a step record's epoch counts from 0, an epoch record's from 1 (epochs finished)
            for key in _STEP_KEYS:
                add(epoch + 1, key, (record.get("metrics") or {}).get(key))
    epochs = np.array(sorted(rows), dtype=np.int64)
    keys: Iterable[str] = sorted({k for row in rows.values() for k in row})
    series = {k: np.array([np.mean(rows[e][k]) if k in rows[e] else np.nan for e in epochs]) for k in keys}
    return CollapseHistory(epochs, series)
