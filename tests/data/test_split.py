"""Seeded stratified choices: caps and held-out shares keep the class proportions."""

import pytest
import torch

from labbench.data.split import cap_index, holdout_index, official_cap, stratified_order
from labbench.errors import DataError

# an unbalanced labelling: 600 of class 0, 300 of class 1, 100 of class 2
LABELS = torch.cat([torch.zeros(600), torch.ones(300), torch.full((100,), 2)]).long()[torch.randperm(1000)]


def test_every_prefix_of_the_stratified_order_keeps_class_shares():
    order = stratified_order(LABELS, len(LABELS), seed=3)
    assert sorted(order.tolist()) == list(range(1000))
    for k in (10, 50, 333):
        counts = torch.bincount(LABELS[order[:k]], minlength=3).float()
        assert torch.allclose(counts, torch.tensor([0.6, 0.3, 0.1]) * k, atol=1.0)


def test_holdout_is_disjoint_stratified_and_seeded():
    train, held = holdout_index(LABELS, 1000, 0.2, seed=0)
    assert len(held) == 200 and len(train) == 800
    assert not set(train.tolist()) & set(held.tolist())
    assert torch.bincount(LABELS[held]).tolist() == [120, 60, 20]
    again, _ = holdout_index(LABELS, 1000, 0.2, seed=0)
    other, _ = holdout_index(LABELS, 1000, 0.2, seed=1)
    assert torch.equal(train, again) and not torch.equal(train, other)


def test_holdout_caps_the_total_before_holding_out():
    train, held = holdout_index(None, 1000, 0.25, seed=0, limit=100)
    assert (len(train), len(held)) == (75, 25)


def test_holdout_needs_two_images():
    with pytest.raises(DataError, match="at least 2"):
        holdout_index(None, 1, 0.2, seed=0)
    train, held = holdout_index(None, 2, 0.01, seed=0)
    assert len(train) == len(held) == 1


def test_cap_index_zero_means_all():
    assert torch.equal(cap_index(LABELS, 1000, 0, seed=0), torch.arange(1000))
    assert torch.bincount(LABELS[cap_index(LABELS, 1000, 100, seed=0)]).tolist() == [60, 30, 10]


def test_official_split_is_capped_in_proportion():
    train, held = official_cap(None, 50000, None, 10000, 6000, seed=0)
    assert (len(train), len(held)) == (5000, 1000)
    with pytest.raises(DataError, match="num_images = 1"):
        official_cap(None, 50000, None, 10000, 1, seed=0)
