"""Two machines, one run: ``torchrun --nnodes 2 --nproc-per-node 1`` with c10d rendezvous, as a SLURM job
on two nodes launches it, played on localhost by two torchrun agents over gloo.

Each node's one process takes a SimCLR step (batch norm replaced, fixed views: see test_distributed) on its
half of the batch; the mean of the two losses is the one-process loss on the joined batch, and both
nodes end with the one-process gradients.

Run as a script under torchrun, this file is the worker: each rank writes its loss and gradients.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import torch
from torch import nn

from tests.engine.test_distributed import BATCH, free_port, images, method_without_batchnorm, one_step


def _node(rank: int, port: int, run_id: str, out: Path) -> subprocess.Popen:
    """One torchrun agent: node ``rank`` of 2 (it hosts the rendezvous store when it is node 0)."""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "2", "--nproc-per-node", "1",
           "--rdzv-backend", "c10d", "--rdzv-endpoint", f"127.0.0.1:{port}", "--rdzv-id", run_id,
           "--rdzv-conf", f"is_host={int(rank == 0)}", "--local-addr", "127.0.0.1", "--max-restarts", "0",
           __file__, str(out)]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(cmd, cwd=out, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_two_nodes_give_the_loss_and_gradients_of_one_process_on_the_joined_batch(tmp_path):
    port, run_id = free_port(), uuid.uuid4().hex[:8]
    nodes = [_node(rank, port, run_id, tmp_path) for rank in range(2)]
    try:
        done = [node.communicate(timeout=240) for node in nodes]
    finally:
        for node in nodes:
            node.kill()
    for node, (_, err) in zip(nodes, done):
        assert node.returncode == 0, err[-3000:]

    method = method_without_batchnorm("simclr")
    loss, grads = one_step(method, method, images(2 * BATCH))
    ranks = [torch.load(tmp_path / f"rank{r}.pt") for r in range(2)]
    assert {r["world"] for r in ranks} == {2} and {r["nodes"] for r in ranks} == {2}
    assert (ranks[0]["loss"] + ranks[1]["loss"]) / 2 == pytest.approx(loss, rel=1e-5)
    assert ranks[0]["loss"] != pytest.approx(ranks[1]["loss"], rel=1e-3)  # the halves really differ
    for r in range(2):
        for key, g in grads.items():
            torch.testing.assert_close(ranks[r]["grads"][key], g, rtol=1e-4, atol=1e-6, msg=key)


def _worker(out: Path) -> None:
    """One rank: a SimCLR step on its half of the batch under DDP, saved for the test."""
    torch.distributed.init_process_group("gloo")
    torch.set_num_threads(1)
    rank, world = torch.distributed.get_rank(), torch.distributed.get_world_size()
    method = method_without_batchnorm("simclr")
    shard = images(world * BATCH)[rank * BATCH : (rank + 1) * BATCH]
    loss, grads = one_step(method, nn.parallel.DistributedDataParallel(method), shard)
    nodes = int(os.environ["WORLD_SIZE"]) // int(os.environ["LOCAL_WORLD_SIZE"])
    torch.save({"loss": loss, "grads": grads, "world": world, "nodes": nodes}, out / f"rank{rank}.pt")
    torch.distributed.destroy_process_group()


if __name__ == "__main__":
    _worker(Path(sys.argv[1]))
