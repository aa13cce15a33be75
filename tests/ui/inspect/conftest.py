"""Fixtures for the inspector tests: tiny real runs, trained once per session, and one torch thread.

Tiny tensors gain nothing from several threads, and on a shared machine the threads only wait
for each other.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from labbench.config import RunConfig, apply_overrides
from labbench.engine import Trainer


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)

COMMON = [
    "data.source=shapes", "data.image_size=16", "data.num_images=160", "train.batch_size=32", "train.epochs=2",
    "train.log_every_steps=1", "train.num_threads=1", "train.device=cpu", "optim.warmup_epochs=0",
    "eval.max_bank=120", "eval.max_eval=40", "eval.knn_k=5", "eval.probe_images=4",
]
VIT = ["backbone.name=vit_tiny", "backbone.patch_size=4", "backbone.depth=2"]
RUNS = {
    "simclr": ["method.name=simclr", "method.projection_dim=16", "backbone.name=cnn", "backbone.width=8",
               "optim.name=sgd", "optim.lr=0.1"],
    "dino": ["method.name=dino", "method.out_dim=64", "method.hidden_dim=32", "method.bottleneck_dim=16",
             "method.local_crops_number=2", "optim.name=adamw", "optim.lr=5e-4", *VIT],
    "mae": ["method.name=mae", "method.decoder_depth=1", "method.decoder_width=32", "method.decoder_heads=2",
            "optim.name=adamw", "optim.lr=1e-3", *VIT],
}


def train(root: Path, kind: str) -> Path:
    """A real run of a few steps at 16 px, trained by the Trainer into its own runs folder."""
    result = Trainer(apply_overrides(RunConfig(), [*RUNS[kind], *COMMON]), runs_root=root).fit()
    assert result.status == "completed", result.message
    return Path(result.run_dir)


@pytest.fixture(scope="session")
def simclr_run(tmp_path_factory) -> Path:
    return train(tmp_path_factory.mktemp("simclr-runs"), "simclr")


@pytest.fixture(scope="session")
def dino_run(tmp_path_factory) -> Path:
    return train(tmp_path_factory.mktemp("dino-runs"), "dino")


@pytest.fixture(scope="session")
def mae_run(tmp_path_factory) -> Path:
    return train(tmp_path_factory.mktemp("mae-runs"), "mae")
