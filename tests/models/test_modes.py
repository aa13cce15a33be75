"""eval_mode: evaluation switches batch norm to its running statistics and leaves training as it was."""

import pytest
import torch
from torch import nn

from labbench.models.modes import eval_mode


def test_batch_norm_is_not_updated_inside_and_trains_again_after():
    model = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4))
    before = model[1].running_mean.clone()
    with eval_mode(model):
        assert not model.training and not model[1].training
        model(torch.randn(8, 4) + 5)
    assert torch.equal(model[1].running_mean, before)
    assert model.training and model[1].training
    model(torch.randn(8, 4) + 5)
    assert not torch.equal(model[1].running_mean, before)


def test_each_submodule_gets_its_own_mode_back_even_when_the_block_raises():
    student, teacher = nn.BatchNorm1d(2), nn.BatchNorm1d(2).eval()  # a frozen teacher stays in eval mode
    model = nn.ModuleDict({"student": student, "teacher": teacher})
    with pytest.raises(RuntimeError), eval_mode(model):
        raise RuntimeError("a failed measurement")
    assert model.training and student.training and not teacher.training
