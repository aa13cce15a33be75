"""Shared test set-up. Qt must render offscreen (no display on CI), decided before any Qt import (labbench has none).

And the tiny real runs (a few steps at 16 px) that the evaluation and inspector tests read from.
"""

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from labbench.engine import Trainer
from labbench.run_config import RunConfig, apply_overrides

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

TINY_COMMON = [
    "data.source=shapes", "data.image_size=16", "data.num_images=200", "train.batch_size=32", "train.epochs=2",
    "train.log_every_steps=1", "train.num_threads=1", "train.device=cpu", "optim.warmup_epochs=0",
    "eval.max_bank=160", "eval.max_eval=40", "eval.knn_k=5", "eval.probe_images=4",
]
TINY_VIT = ["backbone.name=vit_tiny", "backbone.patch_size=4", "backbone.depth=2"]
TINY_RUNS = {
    "simclr": ["method.name=simclr", "method.projection_dim=16", "backbone.name=cnn", "backbone.width=8",
               "optim.name=sgd", "optim.lr=0.1"],
    "dino": ["method.name=dino", "method.out_dim=64", "method.hidden_dim=32", "method.bottleneck_dim=16",
             "method.local_crops_number=2", "optim.name=adamw", "optim.lr=5e-4", *TINY_VIT],
    "mae": ["method.name=mae", "method.decoder_depth=1", "method.decoder_width=32", "method.decoder_heads=2",
            "optim.name=adamw", "optim.lr=1e-3", *TINY_VIT],
}


def train_tiny_run(root: Path, kind: str) -> Path:
    """Train the tiny ``kind`` run (a key of ``TINY_RUNS``) into ``root``; its run folder."""
    result = Trainer(apply_overrides(RunConfig(), [*TINY_RUNS[kind], *TINY_COMMON]), runs_root=root).fit()
    assert result.status == "completed", result.message
    return Path(result.run_dir)


@pytest.fixture(scope="session")
def tiny_runs(tmp_path_factory) -> Callable[[str, Path], Path]:
    """``get(kind, folder)``: the tiny ``kind`` run of a test folder, trained on first use.

    Each test folder gets runs of its own: the evaluation tests write into theirs (eval.json, further runs).
    """
    trained: dict[tuple[str, Path], Path] = {}

    def get(kind: str, folder: Path) -> Path:
        if (kind, folder) not in trained:
            trained[kind, folder] = train_tiny_run(tmp_path_factory.mktemp(f"{kind}-runs"), kind)
        return trained[kind, folder]

    return get


@pytest.fixture(scope="module")
def simclr_run(request, tiny_runs) -> Path:
    return tiny_runs("simclr", request.path.parent)


@pytest.fixture(scope="module")
def dino_run(request, tiny_runs) -> Path:
    return tiny_runs("dino", request.path.parent)


@pytest.fixture(scope="module")
def mae_run(request, tiny_runs) -> Path:
    return tiny_runs("mae", request.path.parent)
