"""The EMA update is the formula, and the lecture's numbers follow from it."""

import pytest
import torch

from labbench.methods.momentum import MomentumSchedule, ema_update, frozen_copy


def test_ema_update_equals_formula():
    student = torch.nn.Linear(3, 2)
    teacher = frozen_copy(student)
    with torch.no_grad():
        for p in student.parameters():
            p.add_(1.0)
    before = [p.clone() for p in teacher.parameters()]
    ema_update(teacher, student, 0.9)
    for t, b, s in zip(teacher.parameters(), before, student.parameters()):
        assert torch.allclose(t, 0.9 * b + 0.1 * s)
        assert not t.requires_grad


def test_lecture_momentum_numbers():
    # After n updates a key encoder with m=0.999 has moved 1-0.999^n of the way to a fixed query encoder.
    student = torch.nn.Linear(1, 1, bias=False)
    teacher = frozen_copy(student)
    with torch.no_grad():
        teacher.weight.zero_()
        student.weight.fill_(1.0)
    for n in range(1, 1001):
        ema_update(teacher, student, 0.999)
        if n == 256:
            assert teacher.weight.item() == pytest.approx(0.226, abs=1e-3)
    assert teacher.weight.item() == pytest.approx(0.632, abs=1e-3)


def test_cosine_momentum_rises_to_one():
    sched = MomentumSchedule(0.996, cosine=True)
    assert sched(0, 100) == pytest.approx(0.996)
    assert sched(99, 100) == pytest.approx(1.0, abs=1e-5)
    assert MomentumSchedule(0.999, cosine=False)(50, 100) == 0.999
