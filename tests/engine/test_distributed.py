"""Many processes, one run: two gloo processes on the CPU behave as one process with twice the batch.

The equivalence is checked without batch norm: with it, each process normalises by its own half of
the batch, which is a different (if reasonable) computation, and torch's SyncBatchNorm runs on GPUs
only. So SimCLR's projection head has its batch norms replaced by identities and the backbone is a
ViT (layer norm, per sample); DINO's ViT and head have no batch norm to begin with.

Run as a script under torchrun, this file is the worker: each rank writes its loss and gradients.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from labbench import distributed
from labbench.augment import ViewPipeline
from labbench.engine.device import default_threads, physical_cores
from labbench.methods import build_method
from labbench.run_config import RunConfig, apply_overrides

BATCH = 8  # images per process; the one-process reference takes 2 × BATCH
# no random view parameter: both processes and the reference see exactly the same views
FIXED_VIEWS = [
    "augment.crop_scale=[1.0, 1.0]", "augment.crop_ratio=[1.0, 1.0]", "augment.flip_p=0.0",
    "augment.jitter_p=0.0", "augment.grayscale_p=0.0", "augment.blur_p=0.0", "augment.solarize_p=0.0",
]
TINY_VIT = ["data.image_size=16", "backbone.name=vit_tiny", "backbone.patch_size=8", "backbone.depth=1"]
CONFIGS = {
    "simclr": ["method.name=simclr", "method.projection_dim=16", "method.hidden_dim=32"],
    "dino": ["method.name=dino", "method.out_dim=64", "method.hidden_dim=32", "method.bottleneck_dim=16",
             "method.global_crops_scale=[1.0, 1.0]", "method.local_crops_number=2",
             "method.local_crops_scale=[1.0, 1.0]", "method.local_crops_size=0.5"],
}


def method_without_batchnorm(name: str) -> nn.Module:
    cfg = apply_overrides(RunConfig(), [*FIXED_VIEWS, *TINY_VIT, *CONFIGS[name]])
    torch.manual_seed(0)
    method = build_method(cfg)
    for value in vars(method).values():  # the papers' fixed blur/solarize chances (DINO's second crop …)
        for pipeline in value if isinstance(value, tuple) else (value,):
            if isinstance(pipeline, ViewPipeline):
                pipeline.blur_p = pipeline.solarize_p = 0.0
    for module in list(method.modules()):
        for child_name, child in module.named_children():
            if isinstance(child, nn.modules.batchnorm._BatchNorm):
                setattr(module, child_name, nn.Identity())
    return method


def images(n: int) -> torch.Tensor:
    return torch.randint(0, 256, (n, 3, 16, 16), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))


def one_step(method: nn.Module, model: nn.Module, batch: torch.Tensor) -> tuple[float, dict[str, torch.Tensor]]:
    """Loss and gradients of one step (the gradients DDP averaged, when ``model`` is wrapped)."""
    loss, _ = model(batch, torch.Generator().manual_seed(2))
    loss.backward()
    grads = {k: p.grad.clone() for k, p in method.named_parameters() if p.grad is not None}
    return loss.item(), grads


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def torchrun(args: list[str], cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-addr", "127.0.0.1",
           "--master-port", str(free_port()), *args]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def two_process_steps(tmp_path_factory) -> Path:
    """One torchrun of this file: each of 2 ranks takes one step of each method on its half of the batch."""
    out = tmp_path_factory.mktemp("ranks")
    done = torchrun([__file__, str(out)], cwd=out)
    assert done.returncode == 0, done.stderr[-3000:]
    return out


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_two_processes_give_the_loss_and_gradients_of_one_with_twice_the_batch(name, two_process_steps):
    method = method_without_batchnorm(name)
    loss, grads = one_step(method, method, images(2 * BATCH))
    ranks = [torch.load(two_process_steps / f"{name}-rank{r}.pt") for r in range(2)]
    # each rank's loss is the mean over its own images: their mean is the whole batch's loss
    assert (ranks[0]["loss"] + ranks[1]["loss"]) / 2 == pytest.approx(loss, rel=1e-5)
    assert ranks[0]["loss"] != pytest.approx(ranks[1]["loss"], rel=1e-3)  # the halves really differ
    for r in range(2):
        assert ranks[r]["grads"].keys() == grads.keys()
        for key, g in grads.items():
            torch.testing.assert_close(ranks[r]["grads"][key], g, rtol=1e-4, atol=1e-6, msg=key)


def test_torchrun_trains_two_processes_into_one_run_folder(tmp_path):
    runs = tmp_path / "runs"
    settings = ["data.image_size=16", "data.num_images=200", "backbone.name=cnn", "backbone.width=8",
                "train.batch_size=32", "train.epochs=2", "train.log_every_steps=2", "method.projection_dim=16",
                "optim.name=sgd", "optim.warmup_epochs=0", "eval.max_bank=100", "eval.max_eval=40",
                "eval.knn_k=5", "eval.probe_images=0"]
    done = torchrun(["-m", "labbench", "train", "--preset", "simclr", "--name", "ddp", "--runs-dir", str(runs),
                     *(a for s in settings for a in ("--set", s))], cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    folders = list(runs.iterdir())
    assert len(folders) == 1, folders  # only rank 0 writes
    run = folders[0]
    assert (run / "config.toml").is_file() and (run / "checkpoints" / "last.pt").is_file()
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    steps = [r for r in records if r["kind"] == "step"]
    # 160 images / 32 = 5 steps an epoch; the first step is reported at once, epoch ends log too
    assert [r["step"] for r in steps] == [1, 2, 4, 5, 6, 8, 10]
    assert all(r["loss"] > 0 for r in steps)
    assert sum(r["kind"] == "finished" for r in records) == 1 and records[-1]["status"] == "completed"
    assert "2 processes" in done.stderr


def test_processes_on_one_machine_share_its_cores():
    assert 1 <= default_threads(1) <= physical_cores() <= (os.cpu_count() or 1)
    assert default_threads(2) == max(1, physical_cores() // 2)


def _worker(out: Path) -> None:
    """One rank under torchrun: a step of each method on its half of the batch, saved for the test."""
    torch.distributed.init_process_group("gloo")
    torch.set_num_threads(1)
    rank, world = distributed.rank(), distributed.world_size()
    for name in CONFIGS:
        method = method_without_batchnorm(name)
        model = nn.parallel.DistributedDataParallel(method)
        shard = images(world * BATCH)[rank * BATCH : (rank + 1) * BATCH]
        loss, grads = one_step(method, model, shard)
        torch.save({"loss": loss, "grads": grads}, out / f"{name}-rank{rank}.pt")
    torch.distributed.destroy_process_group()


if __name__ == "__main__":
    _worker(Path(sys.argv[1]))
