"""Which images each process streams in an epoch: whole shards per rank, shuffled within a small window.

Every rank draws the same seeded permutation of the shards and keeps every world-th one, so under
torchrun each rank reads only its own shards (whole files, mostly in order: what disks, network file
systems and object stores serve fastest) and no two ranks read the same image in an epoch. Within a rank,
images are shuffled across a window of consecutive shards: with shards written in a shuffled order
(``labbench data pack`` does), a batch mixes the whole set's classes. The order depends only on the
seed, the epoch, the rank and the world size, so a run resumes exactly mid-epoch, whatever the
number of decoding workers.
"""

from __future__ import annotations

import numpy as np

from labbench.errors import ConfigError

#: shards whose images are shuffled together within one rank
SHUFFLE_WINDOW = 8


def steps_per_epoch(group_sizes: list[int], batch_size: int, world: int) -> int:
    """Steps every rank can take in any epoch: a rank gets at least ⌊G/world⌋ of the G shards, so at
    least the images of the ⌊G/world⌋ smallest, and takes ``batch_size / world`` of them per step."""
    if len(group_sizes) < world:
        raise ConfigError(
            f"the pack has {len(group_sizes)} shard(s) for {world} processes: each process streams shards of its "
            "own; pack the folder again with smaller shards (labbench data pack --shard-mb)"
        )
    fewest = int(np.sort(np.asarray(group_sizes))[: len(group_sizes) // world].sum())
    return fewest // (batch_size // world)


def rank_order(groups: list[np.ndarray], batch_size: int, world: int, rank: int, seed: int, epoch: int) -> np.ndarray:
    """This rank's positions for ``epoch``, one row per step: steps × (batch_size / world), int64."""
    per_rank = batch_size // world
    steps = steps_per_epoch([len(g) for g in groups], batch_size, world)
    shared = np.random.default_rng([seed, epoch])  # the same on every rank: the shard permutation
    mine = shared.permutation(len(groups))[rank::world]
    own = np.random.default_rng([seed, epoch, rank])
    windows = [np.concatenate([groups[g] for g in mine[i : i + SHUFFLE_WINDOW]])
               for i in range(0, len(mine), SHUFFLE_WINDOW)]
    order = np.concatenate([own.permutation(w) for w in windows])
    return order[: steps * per_rank].reshape(steps, per_rank).astype(np.int64)
