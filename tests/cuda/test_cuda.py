"""The CUDA path, run on a GPU: bf16 autocast and channels_last steps of every method, exact resume, export
from a CUDA run, nvJPEG decoding of streamed batches. ``pytest -m cuda``; ``benchmarks/gpu_suite.py`` runs
them and puts the outcome in its report."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from labbench.augment import CropSpec
from labbench.run_config import RunConfig, apply_overrides
from labbench.data import load_split
from labbench.engine import StepEvent, Trainer
from labbench.engine.batches import StoreBatches, StreamedEpoch, decode_on_device
from labbench.export import export_run
from labbench.export.formats import load_encoder
from labbench.methods import METHODS
from tests.conftest import assert_same_weights, stop_and_resume, tiny_method_config

pytestmark = pytest.mark.cuda

RUN = ["data.source=shapes", "data.num_images=80", "train.batch_size=16", "train.epochs=1", "train.log_every_steps=1",
       "train.precision=bf16", "train.channels_last=true", "optim.warmup_epochs=0", "eval.max_bank=32",
       "eval.max_eval=16", "eval.knn_k=3", "eval.probe_images=2"]


def _config(name: str, device: str, *overrides: str) -> RunConfig:
    return tiny_method_config(name, 32, *RUN, f"train.device={device}", *overrides)


@pytest.mark.parametrize("name", sorted(METHODS))
def test_every_method_trains_in_bf16_with_channels_last(name, device, tmp_path):
    steps = []
    trainer = Trainer(_config(name, device), [lambda e: steps.append(e) if isinstance(e, StepEvent) else None],
                      runs_root=tmp_path)
    result = trainer.fit()
    assert result.status == "completed", result.message
    assert trainer.bf16 and trainer.device.type == device
    assert steps and all(np.isfinite(e.loss) for e in steps)
    convs = [m.weight for m in trainer.method.modules() if isinstance(m, torch.nn.Conv2d)]
    assert all(w.is_contiguous(memory_format=torch.channels_last) for w in convs if w.dim() == 4)
    assert all(p.device.type == device for p in trainer.method.parameters())


def test_the_store_of_a_small_set_lives_on_the_training_device(device):
    cfg = _config("simclr", device)
    images = load_split(cfg.data).train.images
    source = StoreBatches(images, cfg, torch.device(device), 1, 0)
    batch, _ = next(source.epoch(0, 0))
    assert source.images.device.type == device and batch.device.type == device


def test_a_stopped_run_resumes_to_the_same_weights(device, deterministic, tmp_path):
    straight, resumed = stop_and_resume(_config("simclr", device, "train.epochs=2"), tmp_path, stop_at=5)
    assert resumed.step == straight.step
    assert_same_weights(straight, resumed)


def test_a_run_trained_on_the_device_exports_and_reloads_anywhere(device, tmp_path):
    result = Trainer(_config("simclr", device), runs_root=tmp_path).fit()
    assert result.status == "completed"
    exported = export_run(result.run_dir)
    assert set(exported.files) == {"pt", "safetensors", "torchscript", "onnx"}
    assert all(diff < 1e-3 for diff in exported.max_abs_diff.values()), exported.max_abs_diff
    encoder, card = load_encoder(exported.files["pt"])
    features = encoder(torch.zeros(2, 3, 32, 32))
    assert features.shape == (2, card["feature_dim"]) and torch.isfinite(features).all()


def test_nvjpeg_decodes_and_cuts_streamed_batches_as_the_cpu_workers_do(device, packed_photos):
    pack = packed_photos(per_class=8)
    cfg = apply_overrides(RunConfig(), ["data.source=shards", f"data.root={str(pack)!r}", "data.num_images=0",
                                        "data.store=stream", "data.image_size=32"])
    images = load_split(cfg.data).train.images
    plan = (CropSpec(32, (0.08, 1.0)), CropSpec(16, (0.05, 0.4)), CropSpec(32))
    order = np.arange(8).reshape(1, 8)
    on_cpu, _ = StreamedEpoch(images, order, plan, 0, 0, 0, decode_here=True)[0]
    encoded, _ = StreamedEpoch(images, order, plan, 0, 0, 0, decode_here=False)[0]
    on_device = decode_on_device(encoded, plan, torch.device(device))
    for a, b in zip(on_device.crops, on_cpu.crops):
        assert a.device.type == device and a.shape == b.shape
        assert (a.cpu().float() - b.float()).abs().mean() < 3.0
