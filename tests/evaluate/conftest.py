"""Real tiny runs (a few steps at 16 px) that every evaluation and inspector test reads from."""

from pathlib import Path

import pytest

from labbench.config import RunConfig, apply_overrides
from labbench.engine import Trainer

COMMON = [
    "data.image_size=16", "data.num_images=200", "train.batch_size=32", "train.epochs=2",
    "train.log_every_steps=1", "train.num_threads=1", "optim.warmup_epochs=0",
    "eval.max_bank=160", "eval.max_eval=40", "eval.knn_k=5", "eval.probe_images=4",
]
TINY_VIT = ["backbone.name=vit_tiny", "backbone.patch_size=4", "backbone.depth=2"]
RUNS = {
    "simclr": ["method.name=simclr", "method.projection_dim=16", "backbone.name=cnn", "backbone.width=8",
               "optim.name=sgd", "optim.lr=0.1"],
    "dino": ["method.name=dino", "method.out_dim=64", "method.hidden_dim=32", "method.bottleneck_dim=16",
             "method.local_crops_number=2", "optim.name=adamw", "optim.lr=5e-4", *TINY_VIT],
    "mae": ["method.name=mae", "method.decoder_depth=1", "method.decoder_width=32", "method.decoder_heads=2",
            "optim.name=adamw", "optim.lr=1e-3", *TINY_VIT],
}


def train_tiny_run(root: Path, kind: str, extra: list[str] = ()) -> Path:
    """Train the tiny ``kind`` run into ``root``; its run folder."""
    cfg = apply_overrides(RunConfig(), [*RUNS[kind], *COMMON, *extra])
    result = Trainer(cfg, runs_root=root).fit()
    assert result.status == "completed", result.message
    return Path(result.run_dir)


@pytest.fixture(scope="session")
def simclr_run(tmp_path_factory) -> Path:
    return train_tiny_run(tmp_path_factory.mktemp("runs"), "simclr")


@pytest.fixture(scope="session")
def dino_run(tmp_path_factory) -> Path:
    return train_tiny_run(tmp_path_factory.mktemp("runs"), "dino")


@pytest.fixture(scope="session")
def mae_run(tmp_path_factory) -> Path:
    return train_tiny_run(tmp_path_factory.mktemp("runs"), "mae")
