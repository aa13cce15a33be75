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
             "method.local_crops_number=2", "method.momentum_teacher=0.9",  # a teacher that moves in 12 steps
             "optim.name=adamw", "optim.lr=5e-4", *TINY_VIT],
    "mae": ["method.name=mae", "method.decoder_depth=1", "method.decoder_width=32", "method.decoder_heads=2",
            "optim.name=adamw", "optim.lr=1e-3", *TINY_VIT],
}


@pytest.fixture(scope="module")
def garbage_in_the_gui_thread(qapp):
    """As in the window: the cycle collector runs in the GUI thread only (see ui/garbage.py); after the
    module, automatic collection is back for the tests that follow."""
    from ui.garbage import collect_in_gui_thread

    collector = collect_in_gui_thread(qapp)
    yield collector
    collector.stop()


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


@pytest.fixture
def one_thread():
    """Tiny models: one thread beats two that fight over a busy machine (by 50× when it is loaded)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def stop_and_resume(config: RunConfig, root: Path, stop_at: int) -> tuple[Trainer, Trainer]:
    """``config`` trained straight through, and trained again stopped after step ``stop_at`` then resumed
    from its checkpoint: (the straight trainer, the resumed one), both completed."""
    from labbench.engine import Control, StepEvent

    straight = Trainer(config, runs_root=root / "straight")
    assert straight.fit().status == "completed"
    control = Control()

    def stop(event) -> None:
        if isinstance(event, StepEvent) and event.step == stop_at:
            control.stop()

    first = Trainer(config, [stop], control, runs_root=root / "stopped")
    assert first.fit().status == "stopped"
    resumed = Trainer.resume(first.run_dir)
    assert resumed.fit().status == "completed"
    return straight, resumed


def assert_same_weights(a: Trainer, b: Trainer) -> None:
    import torch

    wa, wb = a.method.state_dict(), b.method.state_dict()
    assert wa.keys() == wb.keys()
    for key in wa:
        assert torch.equal(wa[key], wb[key]), key


@pytest.fixture(scope="module")
def simclr_run(request, tiny_runs) -> Path:
    return tiny_runs("simclr", request.path.parent)


@pytest.fixture(scope="module")
def dino_run(request, tiny_runs) -> Path:
    return tiny_runs("dino", request.path.parent)


@pytest.fixture(scope="module")
def mae_run(request, tiny_runs) -> Path:
    return tiny_runs("mae", request.path.parent)


# -- photographs on disk and their packed shards (the streaming tests) --------------------------------


def write_photos(root: Path, classes: tuple[str, ...] = ("cat", "dog"), per_class: int = 12,
                 sides: tuple[str, ...] = (), seed: int = 0) -> list[Path]:
    """JPEGs of 40–90 px (width and height drawn apart) with smooth colour fields and noise, one folder per
    class (under ``sides`` folders such as train/ and test/ when given); their paths."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    paths = []
    for side in sides or ("",):
        for c, name in enumerate(classes):
            for i in range(per_class):
                h, w = (int(v) for v in rng.integers(40, 91, 2))
                yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
                base = np.stack([xx, yy, (xx + yy) / 2], -1) * 200 + c * 40
                pixels = np.clip(base + rng.normal(0, 12, (h, w, 3)), 0, 255).astype(np.uint8)
                path = root / side / name / f"{i:03d}.jpg"
                path.parent.mkdir(parents=True, exist_ok=True)
                Image.fromarray(pixels).save(path, quality=90)
                paths.append(path)
    return paths


@pytest.fixture
def packed_photos(tmp_path) -> Callable[..., Path]:
    """``make(**write_photos kwargs, shard_mb=…)``: a folder of photos packed into shards; the pack folder."""
    from labbench.data.pack import pack_folder

    def make(shard_mb: float = 0.02, **kwargs) -> Path:
        folder = tmp_path / "photos"
        write_photos(folder, **kwargs)
        pack_folder(str(folder), tmp_path / "pack", shard_mb=shard_mb, threads=1)
        return tmp_path / "pack"

    return make


#: every registered method with small heads, for tests that run one step of each on a width-8 CNN
#: (a ViT where the method needs one): the papers' 4 096–65 536-wide heads would dominate the test time
TINY_METHODS: dict[str, list[str]] = {
    "barlow_twins": ["method.projector_dim=64"],
    "byol": ["method.projection_dim=16", "method.hidden_dim=32", "method.predictor_hidden_dim=32"],
    "colorization": [],
    "cpc": [],
    "dino": ["method.out_dim=64", "method.hidden_dim=32", "method.bottleneck_dim=16", "method.local_crops_number=2"],
    "inpainting": [],
    "jigsaw": ["method.hidden_dim=32"],
    "mae": ["method.decoder_width=32", "method.decoder_depth=1", "method.decoder_heads=2", *TINY_VIT],
    "memory_bank": ["method.num_negatives=32", "method.projection_dim=16"],
    "moco": ["method.queue_size=64", "method.projection_dim=16"],
    "moco_v3": ["method.projection_dim=16", "method.hidden_dim=32", *TINY_VIT],
    "relative_patch": ["method.hidden_dim=32"],
    "rotation": [],
    "simclr": ["method.projection_dim=16"],
    "simsiam": ["method.projection_dim=32", "method.predictor_hidden_dim=16"],
    "supervised": [],
    "vicreg": ["method.expander_dim=64"],
}


def tiny_method_config(name: str, image_size: int = 32, *overrides: str) -> RunConfig:
    """``name`` from ``TINY_METHODS`` on a width-8 CNN (or its tiny ViT) at ``image_size`` px."""
    return apply_overrides(RunConfig(), [f"method.name={name}", f"data.image_size={image_size}", "backbone.name=cnn",
                                         "backbone.width=8", *TINY_METHODS[name], *overrides])
