"""A plan fits every schedule to the steps a run will take: fewer steps compress the curves, never cut them."""

import numpy as np
import pytest

from labbench.engine.plan import Plan
from labbench.run_config import RunConfig, apply_overrides


def _config(*overrides: str) -> RunConfig:
    return apply_overrides(RunConfig(), ["train.epochs=20", "train.batch_size=256", "optim.warmup_epochs=2",
                                         "optim.min_lr_ratio=0.01", *overrides])


def test_the_full_plan_runs_every_epoch_with_the_warm_up_in_epochs():
    plan = Plan.make(_config(), steps_per_epoch=50)
    assert plan.total_steps == 1000 and len(plan.lr) == 1000
    assert plan.lr[99] < plan.lr[100] == pytest.approx(plan.lr.max())  # 2 epochs of 50 steps warm up
    assert plan.schedule_epoch(50) == 1.0


def test_a_shorter_plan_shrinks_the_warm_up_with_it_and_still_ends_the_cosine():
    full, short = Plan.make(_config(), 50), Plan.make(_config(), 50, total_steps=100)
    assert short.total_steps == 100
    assert int(np.argmax(short.lr)) == 10 == int(np.argmax(full.lr)) // 10  # 10 % of the run either way
    assert short.lr[-1] == pytest.approx(full.lr[-1], rel=0.05)  # both reach the floor
    assert short.schedule_epoch(50) == 10.0  # half the plan done = half the planned 20 epochs


def test_max_steps_caps_the_plan():
    assert Plan.make(_config("train.max_steps=30"), 50).total_steps == 30


def test_weight_decay_follows_its_own_cosine_when_it_has_an_end():
    plan = Plan.make(_config("optim.weight_decay=0.04", "optim.weight_decay_end=0.4"), 10)
    assert plan.weight_decay[0] == pytest.approx(0.04) and plan.weight_decay[-1] == pytest.approx(0.4, rel=0.01)
    assert Plan.make(_config(), 10).weight_decay is None
