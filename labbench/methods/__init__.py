"""Every method of the lecture, one module each, in one explicit registry."""

from __future__ import annotations

from labbench.methods.base import Method, PreviewPanel, build_method
from labbench.methods.simclr import SimCLR

METHODS: dict[str, type[Method]] = {
    "simclr": SimCLR,
}

__all__ = ["METHODS", "Method", "PreviewPanel", "build_method"]
