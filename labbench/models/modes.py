"""Train/eval mode for the length of a block: the one way the engine switches a model to evaluation."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from torch import nn


@contextmanager
def eval_mode(module: nn.Module) -> Iterator[nn.Module]:
    """``module`` in eval mode inside the block (batch norm uses its running statistics, dropout is
    off); afterwards every submodule is back in the mode it was in, also when the block raises."""
    modes = [(m, m.training) for m in module.modules()]
    module.eval()
    try:
        yield module
    finally:
        for m, training in modes:
            m.training = training
