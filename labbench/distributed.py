"""Many processes, one run: rank helpers and a gather that keeps gradients (for contrastive negatives).

Everything here is a no-op in a single process, so methods call it unconditionally.
"""

from __future__ import annotations

import os

import torch
import torch.distributed as dist
from torch import Tensor


def is_initialized() -> bool:
    return dist.is_available() and dist.is_initialized()


def rank() -> int:
    return dist.get_rank() if is_initialized() else 0


def world_size() -> int:
    return dist.get_world_size() if is_initialized() else 1


def is_main() -> bool:
    """Only rank 0 writes the run folder and prints progress."""
    return rank() == 0


def local_world_size() -> int:
    """Processes on this machine (torchrun's LOCAL_WORLD_SIZE; 1 outside torchrun), which share its cores."""
    return int(os.environ.get("LOCAL_WORLD_SIZE", "1"))


def launched_by_torchrun() -> bool:
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ and int(os.environ["WORLD_SIZE"]) > 1


def init_from_env(device_type: str) -> None:
    """Join the process group torchrun describes: nccl on CUDA, gloo on CPU, or the backend that
    ``LABBENCH_DIST_BACKEND`` names (gloo lets several processes share one GPU, which nccl refuses)."""
    if launched_by_torchrun() and not is_initialized():
        dist.init_process_group(os.environ.get("LABBENCH_DIST_BACKEND") or ("nccl" if device_type == "cuda" else "gloo"))


def broadcast_object(obj: object) -> object:
    """Rank 0's ``obj`` on every rank (a collective; picklable values): one decision for all processes."""
    if world_size() == 1:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def barrier() -> None:
    """Wait until every rank gets here (nothing in one process)."""
    if world_size() > 1:
        dist.barrier()


class _GatherWithGrad(torch.autograd.Function):
    """all_gather whose backward hands each rank the gradient of its own slice (summed over ranks),
    as SimCLR's and MoCo v3's reference code do, so negatives from other ranks train every encoder."""

    @staticmethod
    def forward(ctx, x: Tensor) -> tuple[Tensor, ...]:  # noqa: D102
        out = [torch.zeros_like(x) for _ in range(dist.get_world_size())]
        dist.all_gather(out, x.contiguous())
        return tuple(out)

    @staticmethod
    def backward(ctx, *grads: Tensor) -> Tensor:  # noqa: D102
        all_grads = torch.stack(grads)
        dist.all_reduce(all_grads)
        return all_grads[dist.get_rank()]


def gather_with_grad(x: Tensor) -> Tensor:
    """Concatenate ``x`` from every rank along dim 0 (rank order), gradients flowing back."""
    if world_size() == 1:
        return x
    return torch.cat(_GatherWithGrad.apply(x), dim=0)


@torch.no_grad()
def gather_no_grad(x: Tensor) -> Tensor:
    """Concatenate ``x`` from every rank (for MoCo's queue of keys, which carry no gradient)."""
    if world_size() == 1:
        return x
    out = [torch.zeros_like(x) for _ in range(world_size())]
    dist.all_gather(out, x.contiguous())
    return torch.cat(out, dim=0)


def all_reduce_mean(x: Tensor) -> Tensor:
    """Mean of ``x`` over ranks (DINO's centre); ``x`` itself in one process."""
    if world_size() == 1:
        return x
    x = x.clone()
    dist.all_reduce(x)
    return x / world_size()


def all_reduce_max(x: Tensor) -> Tensor:
    """Element-wise maximum of ``x`` over ranks; ``x`` itself in one process."""
    if world_size() == 1:
        return x
    x = x.clone()
    dist.all_reduce(x, op=dist.ReduceOp.MAX)
    return x


def any_rank(flag: bool, device: torch.device | str = "cpu") -> bool:
    """True when ``flag`` is true on any rank (a collective: every rank calls it at the same point).

    ``device``: where the backend reduces (the training device: nccl reduces CUDA tensors only).
    """
    return bool(all_reduce_max(torch.tensor(int(flag), device=device)))
