"""The private PyTorch APIs labbench relies on, each wrapped under a name that says what it does.

They are the first thing a torch upgrade breaks: each has a test in ``tests/test_torch_private.py``.
"""

from __future__ import annotations

from collections.abc import Iterable

from torch import nn
from torch.nn.parallel import DistributedDataParallel


def drop_compiled_forward(model: nn.Module) -> None:
    """Undo ``module.compile()`` on every submodule: their next call runs eager again.

    ``nn.Module.compile`` keeps the compiled callable in ``_compiled_call_impl``; there is no public
    way to take it back when the compiler fails on the first step.
    """
    for module in model.modules():
        module._compiled_call_impl = None


def ddp_skip_buffers(module: nn.Module, names: Iterable[str]) -> None:
    """Tell DistributedDataParallel not to broadcast these parameters/buffers from rank 0 every step
    (e.g. a queue every process fills with the same gathered keys)."""
    DistributedDataParallel._set_params_and_buffers_to_ignore_for_model(module, list(names))
