"""Training time leaves out pauses, monitors and saving; throughput is counted on it."""

import time

import pytest

from labbench.engine.clock import Throughput, TrainingClock


def test_time_inside_excluded_blocks_is_not_training_time():
    clock = TrainingClock()
    with clock.excluded():
        time.sleep(0.5)
    assert clock.seconds() < 0.25


def test_a_resumed_clock_starts_at_the_time_already_trained():
    assert TrainingClock(already=30.0).seconds() == pytest.approx(30.0, abs=0.1)


def test_throughput_counts_steps_per_training_second_and_restarts_on_take():
    clock = TrainingClock()
    rate = Throughput(clock)
    for _ in range(5):
        rate.add()
    with clock.excluded():
        time.sleep(1.0)
    time.sleep(0.05)
    assert 5 / 0.6 < rate.take() <= 5 / 0.05  # about 100 steps/s; 5 if the excluded second counted
    assert rate.steps == 0
