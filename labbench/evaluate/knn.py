"""Weighted k-NN classification on frozen features (Wu et al. 2018, InstDisc; used by DINO)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


@torch.no_grad()
def weighted_knn_predict(
    bank: Tensor, bank_labels: Tensor, queries: Tensor, num_classes: int, k: int = 20, temperature: float = 0.07,
    chunk: int = 1024,
) -> Tensor:
    """Class predictions for ``queries``: each of the k nearest bank features (cosine similarity)
    votes for its label with weight ``exp(sim / temperature)``."""
    bank = F.normalize(bank.float(), dim=1)
    queries = F.normalize(queries.float(), dim=1)
    k = min(k, bank.shape[0])
    preds = []
    for q in queries.split(chunk):
        sim, idx = (q @ bank.T).topk(k, dim=1)
        votes = torch.zeros(q.shape[0], num_classes, device=q.device)
        votes.scatter_add_(1, bank_labels[idx], (sim / temperature).exp())
        preds.append(votes.argmax(dim=1))
    return torch.cat(preds)


def weighted_knn_accuracy(
    bank: Tensor, bank_labels: Tensor, queries: Tensor, query_labels: Tensor, k: int = 20, temperature: float = 0.07
) -> float:
    """Top-1 accuracy (0..1) of :func:`weighted_knn_predict`."""
    num_classes = int(max(bank_labels.max(), query_labels.max())) + 1
    pred = weighted_knn_predict(bank, bank_labels, queries, num_classes, k, temperature)
    return (pred == query_labels.to(pred.device)).float().mean().item()
