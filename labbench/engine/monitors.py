"""What is measured every epoch on the eval split: k-NN accuracy and the collapse signals."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from labbench import losses
from labbench.config import EvalConfig
from labbench.data import ImageSet
from labbench.evaluate.features import extract_features
from labbench.evaluate.knn import weighted_knn_accuracy
from labbench.models.modes import eval_mode


@dataclass
class MonitorSets:
    """Fixed subsets chosen once per run: the k-NN bank (train) and the scored eval images."""

    bank: ImageSet
    eval: ImageSet

    @classmethod
    def choose(cls, train: ImageSet, eval_set: ImageSet, cfg: EvalConfig, seed: int) -> MonitorSets:
        train = train.labeled()  # STL-10: the k-NN bank holds only images with a class
        g = torch.Generator().manual_seed(seed)
        bank_idx = torch.randperm(len(train), generator=g)[: cfg.max_bank].sort().values
        eval_idx = torch.randperm(len(eval_set), generator=g)[: cfg.max_eval].sort().values
        return cls(train.subset(bank_idx), eval_set.subset(eval_idx))


def collapse_signals(features: Tensor) -> dict[str, float]:
    """Std of L2-normalised features (≈ 1/√d when healthy, → 0 when collapsed) and effective rank."""
    return {
        "feature_std": float(losses.embedding_std(features)),
        "effective_rank": float(losses.effective_rank(features)),
        "feature_dim": float(features.shape[1]),  # d of the healthy std 1/√d (drawn in the GUI)
    }


def run_monitors(method, sets: MonitorSets, cfg: EvalConfig, image_size: int, device, autocast: bool) -> dict[str, float]:
    """k-NN accuracy (when the set is labelled) and collapse signals of the method's current encoder."""
    with eval_mode(method):
        eval_feats = extract_features(method.embed, sets.eval.images, image_size, device, autocast=autocast)
        out = collapse_signals(eval_feats)
        out["knn_accuracy"] = None
        if sets.bank.labels is not None and sets.eval.labels is not None:
            bank_feats = extract_features(method.embed, sets.bank.images, image_size, device, autocast=autocast)
            out["knn_accuracy"] = weighted_knn_accuracy(
                bank_feats, sets.bank.labels.to(device), eval_feats, sets.eval.labels.to(device),
                k=cfg.knn_k, temperature=cfg.knn_temperature,
            )
    return out
