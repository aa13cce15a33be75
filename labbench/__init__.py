"""labbench: a lab bench for self-supervised visual representation learning (the headless engine)."""

from __future__ import annotations

import os
from typing import Any

__version__ = "0.1.0"

# Set before torch loads its OpenMP runtime (the CLI, torchrun and the window import labbench first):
# idle OpenMP threads sleep instead of spinning. Spinning threads hold the cores that the busy
# threads, the GUI or other processes need; on a shared 2-core machine a SimCLR step ran 2–3× faster
# (benchmarks/profile_step.py). An OMP_WAIT_POLICY set by the user is kept.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def __getattr__(name: str) -> Any:
    # imported on first use: ``import labbench`` stays light (no torch) for tools that only need the version
    if name == "load_encoder":
        from labbench.export import load_encoder

        return load_encoder
    raise AttributeError(f"module 'labbench' has no attribute {name!r}")
