"""labbench: a lab bench for self-supervised visual representation learning (the headless engine)."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # imported on first use: ``import labbench`` stays light (no torch) for tools that only need the version
    if name == "load_encoder":
        from labbench.export import load_encoder

        return load_encoder
    raise AttributeError(f"module 'labbench' has no attribute {name!r}")
