"""Which images each process streams: its own shards, every image at most once an epoch, the same order on resume."""

import itertools

import numpy as np
import pytest

from labbench.data.sharding import SHUFFLE_WINDOW, rank_order, steps_per_epoch
from labbench.errors import ConfigError


def _groups(sizes):
    starts = np.cumsum([0, *sizes])
    return [np.arange(a, b) for a, b in itertools.pairwise(starts)]


def _shard_of(groups):
    return {int(p): s for s, g in enumerate(groups) for p in g}


def test_each_rank_reads_only_whole_shards_of_its_own():
    groups = _groups([30] * 8 + [17])
    shard_of = _shard_of(groups)
    orders = [rank_order(groups, 24, 4, rank, seed=0, epoch=2) for rank in range(4)]
    shards = [{shard_of[int(p)] for p in order.ravel()} for order in orders]
    assert all(a.isdisjoint(b) for i, a in enumerate(shards) for b in shards[i + 1 :])
    images = np.concatenate([o.ravel() for o in orders])
    assert len(np.unique(images)) == len(images), "no image twice in an epoch"
    assert len({o.shape for o in orders}) == 1, "every rank takes the same number of steps"
    assert orders[0].shape == (steps_per_epoch([len(g) for g in groups], 24, 4), 6)


def test_one_process_sees_nearly_every_image_and_mixes_the_shards_in_each_batch():
    groups = _groups([40] * 6)
    order = rank_order(groups, 32, 1, 0, seed=0, epoch=0)
    assert order.shape == (7, 32)  # 240 images // 32
    shard_of = _shard_of(groups)
    assert all(len({shard_of[int(p)] for p in row}) >= 3 for row in order)


def test_the_order_is_a_function_of_seed_and_epoch_alone():
    groups = _groups([20] * 10)
    again = rank_order(groups, 16, 2, 1, seed=5, epoch=3)
    assert np.array_equal(rank_order(groups, 16, 2, 1, seed=5, epoch=3), again)
    assert not np.array_equal(rank_order(groups, 16, 2, 1, seed=5, epoch=4), again)
    assert not np.array_equal(rank_order(groups, 16, 2, 1, seed=6, epoch=3), again)


def test_images_are_shuffled_across_a_window_of_shards_not_across_the_whole_set():
    groups = _groups([10] * (3 * SHUFFLE_WINDOW))
    shard_of = _shard_of(groups)
    order = rank_order(groups, 10, 1, 0, seed=0, epoch=0).ravel()
    window = 10 * SHUFFLE_WINDOW
    firsts = {shard_of[int(p)] for p in order[:window]}
    assert len(firsts) == SHUFFLE_WINDOW, "the first window reads its own shards only"


def test_fewer_shards_than_processes_asks_for_a_finer_pack():
    with pytest.raises(ConfigError, match="--shard-mb"):
        steps_per_epoch([100, 100], 8, 4)
