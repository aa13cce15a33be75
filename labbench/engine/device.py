"""Pick the best device there is, and the precision that goes with it."""

from __future__ import annotations

import os

import torch

from labbench.config import DEVICES
from labbench.errors import ConfigError


def resolve_device(name: str = "auto", setting: str = "train.device") -> torch.device:
    """``auto`` -> CUDA, else Apple MPS, else CPU; an explicit choice that is absent or unknown is an
    error naming ``setting`` (the field or flag it came from)."""
    if name not in DEVICES:
        raise ConfigError(f"{setting}: {name!r} is not a device labbench knows; choose one of {', '.join(DEVICES)}")
    cuda = torch.cuda.is_available()
    mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    if name == "auto":
        return torch.device("cuda" if cuda else "mps" if mps else "cpu")
    if (name == "cuda" and not cuda) or (name == "mps" and not mps):
        raise ConfigError(f"{setting}: {name!r} is not available on this machine; use 'auto' or 'cpu'")
    return torch.device(name)


def use_bf16(precision: str, device: torch.device) -> bool:
    """bf16 autocast on CUDA by default; fp32 elsewhere (CPU bf16 is slower on most CPUs)."""
    if precision == "bf16":
        return device.type in ("cuda", "cpu")
    return precision == "auto" and device.type == "cuda"


def describe(device: torch.device) -> str:
    """A short human name for the status bar: ``CUDA (NVIDIA H100)``, ``MPS``, ``CPU (2 threads)``."""
    if device.type == "cuda":
        return f"CUDA ({torch.cuda.get_device_name(device)})"
    if device.type == "mps":
        return "MPS"
    return f"CPU ({torch.get_num_threads()} threads)"


def physical_cores() -> int:
    """Physical cores this process may run on (SMT siblings counted once, a cgroup CPU quota respected)."""
    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)
    cores = set()
    for cpu in cpus:
        try:
            with open(f"/sys/devices/system/cpu/cpu{cpu}/topology/thread_siblings_list") as f:
                cores.add(f.read().strip())
        except OSError:
            cores.add(str(cpu))
    count = len(cores)
    try:
        with open("/sys/fs/cgroup/cpu.max") as f:
            quota, period = f.read().split()
        if quota != "max":
            count = min(count, max(1, int(quota) // int(period)))
    except (OSError, ValueError):
        pass
    return max(1, count)


def default_threads(processes_per_machine: int = 1) -> int:
    """CPU threads for one training process: the physical cores shared among this machine's processes.

    A second thread per core (SMT) only makes PyTorch's kernels wait on each other, and under
    torchrun every process gets its share, so N processes never oversubscribe the cores.
    """
    return max(1, physical_cores() // max(1, processes_per_machine))
