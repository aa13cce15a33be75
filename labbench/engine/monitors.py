"""What is measured every epoch on the eval split: k-NN accuracy and the collapse signals; and, once
per run, the k-NN that raw pixels and the untrained encoder reach on the same split."""

from __future__ import annotations

import json
from dataclasses import dataclass

import torch
from torch import Tensor

from labbench import losses
from labbench.config import EvalConfig, to_dict
from labbench.data import ImageSet
from labbench.evaluate.baselines import pixel_features, random_init_method
from labbench.evaluate.features import extract_features
from labbench.evaluate.knn import weighted_knn_accuracy
from labbench.models.modes import eval_mode
from labbench.run_config import RunConfig


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


def reference_knn(
    config: RunConfig, sets: MonitorSets, dataset_size: int, device: torch.device
) -> tuple[float | None, float | None]:
    """(raw pixels, untrained encoder) k-NN accuracy on the monitor's bank and eval images, scored as
    :func:`run_monitors` scores the encoder; (None, None) for an unlabelled set.

    The untrained encoder is the method built with ``train.seed``: the very weights the run starts
    from. Remembered in the process for the settings that decide it (data, backbone, method, eval,
    seed), so that starting the same run again in the window costs nothing.
    """
    if sets.bank.labels is None or sets.eval.labels is None:
        return None, None
    key = json.dumps([to_dict(getattr(config, part)) for part in ("data", "backbone", "method", "eval")]
                     + [config.train.seed, config.train.channels_last, dataset_size, str(device)], sort_keys=True)
    if key not in _REFERENCES:
        cfg, size = config.eval, config.data.image_size
        bank_labels, eval_labels = sets.bank.labels.to(device), sets.eval.labels.to(device)

        def knn(bank: Tensor, queries: Tensor) -> float:
            return weighted_knn_accuracy(bank, bank_labels, queries, eval_labels, k=cfg.knn_k,
                                         temperature=cfg.knn_temperature)

        untrained = random_init_method(config, config.train.seed, dataset_size).to(device)
        if config.train.channels_last:
            untrained = untrained.to(memory_format=torch.channels_last)
        _REFERENCES[key] = (
            knn(pixel_features(sets.bank.images, size).to(device), pixel_features(sets.eval.images, size).to(device)),
            knn(extract_features(untrained.embed, sets.bank.images, size, device),
                extract_features(untrained.embed, sets.eval.images, size, device)),
        )
    return _REFERENCES[key]


_REFERENCES: dict[str, tuple[float, float]] = {}
