"""The collapse dashboard: is the representation spread out, or has it fallen to a point, a line, or (DINO) a uniform output?

Numbers for one checkpoint on a batch of eval images, and their history over a run's epochs:
std of L2-normalised embeddings against 1/√d (SimSiam, Chen & He 2021, §4.1), effective rank
(RankMe, Garrido et al. 2023), alignment and uniformity (Wang & Isola 2020), the similarities of
positive pairs (two views of an image) and negative pairs (views of different images), and for
DINO the teacher's entropy and centre norm (Caron et al. 2021, §3.1 and Fig. 7).

:func:`verdict` is the one judge of collapse: the live training plots, the command line and the
dashboard all call it, on one value per epoch and signal (:func:`epoch_metrics`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
#: the epoch monitors' signals; per-step method metrics (DINO's teacher) are averaged per epoch
_EPOCH_KEYS = ("feature_std", "effective_rank", "knn_accuracy")
_STEP_KEYS = ("teacher_entropy", "center_norm")


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


@dataclass(frozen=True)
class TeacherSignals:
    """DINO's teacher on a batch: mean entropy of its output, log K, the centre's norm, and the share of
    images whose output peaks at the most popular prototype."""

    entropy: float
    max_entropy: float
    center_norm: float
    top_share: float


@dataclass(frozen=True)
class Verdict:
    """Whether the embeddings look collapsed, in words (``"collapsed…: why"`` or ``"healthy: why"``),
    and what to try when they are. The one verdict the live plots, the CLI and the dashboard show."""

    collapsed: bool
    words: str
    advice: str = ""

    @property
    def headline(self) -> str:
        return self.words.partition(": ")[0]

    @property
    def detail(self) -> str:
        return self.words.partition(": ")[2]


#: what to try, per way of collapsing
_POINT_ADVICE = "try a lower learning rate, a larger temperature or stronger augmentation"
_TEACHER_ADVICE = "balance DINO's sharpening (teacher temperature) against its centring (centre momentum)"


def verdict(std: float, dim: int, rank: float, teacher: TeacherSignals | None = None) -> Verdict:
    """The verdict on the collapse signals: std of L2-normalised embeddings, their dimension, effective
    rank and (DINO) the teacher's output."""
    ref = 1.0 / math.sqrt(dim)
    if std < COLLAPSED_STD_SHARE * ref:
        return Verdict(True, f"collapsed: all embeddings are nearly identical (std {std:.3f} ≪ 1/√d = {ref:.3f})",
                       _POINT_ADVICE)
    if dim > 1 and rank < LINE_RANK:
        return Verdict(True, f"collapsed to a line: the embeddings use about {rank:.1f} of {dim} dimensions "
                             f"(effective rank {rank:.2f})", _POINT_ADVICE)
    if teacher is not None:
        if teacher.entropy > 0.98 * teacher.max_entropy:
            return Verdict(True, f"collapsed (uniform): the teacher's output is nearly uniform over its prototypes "
                                 f"(entropy {teacher.entropy:.2f} of at most log K = {teacher.max_entropy:.2f}) — "
                                 "sharpening is too weak for the centring", _TEACHER_ADVICE)
        if teacher.top_share > 0.9:
            return Verdict(True, f"collapsed (one prototype): {teacher.top_share:.0%} of the images put the teacher's "
                                 "peak on the same prototype — centring is too weak for the sharpening", _TEACHER_ADVICE)
    return Verdict(False, f"healthy: embeddings are spread (std {std:.3f} vs 1/√d = {ref:.3f}, "
                          f"effective rank {rank:.1f} of {dim})")


def verdict_from_metrics(metrics: Mapping[str, float]) -> Verdict | None:
    """:func:`verdict` from named numbers — an epoch's (see :func:`epoch_metrics`) or a probe file's
    (:meth:`CollapseReport.as_metrics`); None when they hold no std, rank and dimension."""
    if "feature_dim" in metrics:
        dim = round(metrics["feature_dim"])
    elif "reference_std" in metrics:
        dim = round(metrics["reference_std"] ** -2)
    else:
        return None
    if "feature_std" not in metrics or "effective_rank" not in metrics:
        return None
    teacher = None
    if all(k in metrics for k in ("teacher_entropy", "max_entropy", "top_prototype_share")):
        teacher = TeacherSignals(metrics["teacher_entropy"], metrics["max_entropy"],
                                 metrics.get("center_norm", math.nan), metrics["top_prototype_share"])
    return verdict(metrics["feature_std"], dim, metrics["effective_rank"], teacher)


def epoch_metrics(epoch_record: Mapping[str, Any] | None = None, probe_metrics: Mapping[str, float] | None = None,
                  step_means: Mapping[str, float] | None = None) -> dict[str, float]:
    """One value per signal for an epoch, from the records that measure it.

    Where two records measure the same signal, the epoch monitors win (std and effective rank of the
    eval split's features — the numbers the training plots and the log show), then the probe file's
    batch (alignment, uniformity, pair similarities, DINO's teacher), then the epoch's mean step metric.
    """
    out: dict[str, float] = {}
    epoch_values: dict[str, Any] = {}
    if epoch_record is not None:
        epoch_values = {k: epoch_record.get(k) for k in _EPOCH_KEYS}
        dim = (epoch_record.get("metrics") or {}).get("feature_dim")
        if isinstance(dim, (int, float)) and dim > 0:
            epoch_values.update(feature_dim=dim, reference_std=1.0 / math.sqrt(dim))
    for source in (step_means or {}, probe_metrics or {}, epoch_values):
        out.update({k: float(v) for k, v in source.items() if isinstance(v, (int, float)) and math.isfinite(v)})
    return out


class EpochVerdicts:
    """The verdict of the latest epoch as its records arrive: the epoch monitors first, then the
    probe file's numbers (DINO's teacher). Feed it events or their ``metrics.jsonl`` records."""

    def __init__(self) -> None:
        self.epoch: int | None = None
        self.current: Verdict | None = None
        self._record: Mapping[str, Any] | None = None
        self._probe: Mapping[str, float] | None = None

    def add(self, record: Mapping[str, Any]) -> Verdict | None:
        """Take one record; the epoch's verdict when this record changed it, else None."""
        kind, epoch = record.get("kind"), record.get("epoch")
        if kind == "epoch":
            self.epoch, self._record, self._probe = epoch, record, None
        elif kind == "probe" and epoch == self.epoch:
            self._probe = record.get("metrics") or {}
        else:
            return None
        found = verdict_from_metrics(epoch_metrics(self._record, self._probe))
        changed = found != self.current
        self.current = found
        return found if changed else None


@torch.no_grad()
def _teacher_signals(method: nn.Module, x: Tensor, epoch: float | None) -> TeacherSignals | None:
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
    return TeacherSignals(float(entropy), math.log(probs.shape[1]), float(center.norm()), float(top))


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
    found = verdict(std, z.shape[1], rank, teacher)
    return CollapseReport(
        n=len(z1), dim=z.shape[1], feature_std=std, reference_std=1.0 / math.sqrt(z.shape[1]),
        effective_rank=rank, alignment=float(losses.alignment(z1, z2)), uniformity=float(losses.uniformity(z1)),
        positive_similarities=pos.cpu().numpy(), negative_similarities=neg.cpu().numpy(), space=used,
        collapsed=found.collapsed, verdict=found.words,
        **({} if teacher is None else {
            "teacher_entropy": teacher.entropy, "max_entropy": teacher.max_entropy,
            "center_norm": teacher.center_norm, "top_prototype_share": teacher.top_share,
        }),
    )


@dataclass
class CollapseHistory:
    """Per-epoch curves of a run, from ``metrics.jsonl``: ``epochs`` and one array per signal
    (NaN where an epoch lacks it), one value per epoch and signal (see :func:`epoch_metrics`)."""

    epochs: np.ndarray
    series: dict[str, np.ndarray] = field(default_factory=dict)

    def at(self, epoch: int) -> dict[str, float]:
        """The signals of ``epoch`` (those it has)."""
        where = np.flatnonzero(self.epochs == epoch)
        if not len(where):
            return {}
        return {k: float(v[where[0]]) for k, v in self.series.items() if np.isfinite(v[where[0]])}

    def verdict(self, epoch: int) -> Verdict | None:
        """The collapse verdict on ``epoch``'s numbers (None when it has none)."""
        return verdict_from_metrics(self.at(epoch))


def collapse_history(run_dir: str | Path) -> CollapseHistory:
    """The run's collapse signals per epoch: the trainer's monitors (std, effective rank, k-NN), the
    probes' alignment/uniformity/pair similarities/teacher, and step metrics (e.g. DINO's teacher entropy)
    averaged over each epoch — one value per epoch and signal, chosen by :func:`epoch_metrics`."""
    epochs: dict[int, dict[str, Any]] = {}
    probes: dict[int, dict[str, float]] = {}
    steps: dict[int, dict[str, list[float]]] = {}
    for record in read_metrics(run_dir):
        kind, epoch = record.get("kind"), record.get("epoch")
        if not isinstance(epoch, int):
            continue
        if kind == "epoch":
            epochs[epoch] = record
        elif kind == "probe":
            probes[epoch] = record.get("metrics") or {}
        elif kind == "step":
            for key in _STEP_KEYS:
                value = (record.get("metrics") or {}).get(key)
                if isinstance(value, (int, float)):
                    steps.setdefault(epoch, {}).setdefault(key, []).append(float(value))
    # A step record's epoch counts from 0, an epoch record's the epochs finished: the steps of epoch e
    # belong to record e + 1 — or to record e when the run ended part-way through that epoch.
    steps = {(e + 1 if e + 1 in epochs or e not in epochs else e): values for e, values in steps.items()}
    rows = {e: epoch_metrics(epochs.get(e), probes.get(e), {k: float(np.mean(v)) for k, v in steps.get(e, {}).items()})
            for e in sorted(set(epochs) | set(probes) | set(steps))}
    rows = {e: row for e, row in rows.items() if row}
    keys: Iterable[str] = sorted({k for row in rows.values() for k in row})
    series = {k: np.array([row.get(k, np.nan) for row in rows.values()]) for k in keys}
    return CollapseHistory(np.array(list(rows), dtype=np.int64), series)
