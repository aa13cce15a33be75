"""The private PyTorch APIs labbench wraps still do what their names say (a torch upgrade breaks them first)."""

import torch
from torch import nn

from labbench.torch_private import ddp_skip_buffers, drop_compiled_forward


def test_drop_compiled_forward_makes_a_compiled_module_run_eager_again():
    model = nn.Sequential(nn.Linear(4, 4), nn.ReLU())
    model.compile()
    assert model._compiled_call_impl is not None
    drop_compiled_forward(model)
    assert all(m._compiled_call_impl is None for m in model.modules())
    x = torch.randn(2, 4)
    assert torch.equal(model(x), model[1](model[0](x)))


def test_ddp_skip_buffers_marks_the_named_buffers_for_ddp_to_leave_alone():
    model = nn.Module()
    model.register_buffer("queue", torch.zeros(3))
    model.register_buffer("kept", torch.zeros(3))
    ddp_skip_buffers(model, ["queue"])
    assert model._ddp_params_and_buffers_to_ignore == ["queue"]
