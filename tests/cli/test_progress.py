"""Progress in a log file: a line every N seconds with step, loss, img/s and ETA, never a carriage-return bar."""

import io

from labbench.cli.progress import ProgressPrinter
from labbench.engine.events import StepEvent


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def step(n: int, total: int = 100) -> StepEvent:
    return StepEvent(step=n, epoch=0, total_steps=total, loss=4.25, lr=0.03, momentum=None, images_per_sec=512.0)


def test_a_log_file_gets_a_line_every_n_seconds_with_step_loss_rate_and_eta():
    out, clock = io.StringIO(), FakeClock()
    printer = ProgressPrinter(out, every_s=30, clock=clock)
    for n in range(1, 41):  # one step a second
        printer(step(n))
        clock.now += 1.0
    lines = out.getvalue().splitlines()
    assert [line.split()[1] for line in lines] == ["1/100", "31/100"]  # the first report, then 30 s later
    assert "\r" not in out.getvalue() and "\033" not in out.getvalue()
    assert "loss 4.2500" in lines[1] and "512 img/s" in lines[1] and "(31 %)" in lines[1]
    assert lines[1].endswith("ETA 1:09 (31 %)")  # 69 steps left at the measured 1 step/s
    assert "ETA --" in lines[0]  # no rate to measure yet


def test_the_last_step_is_always_reported():
    out, clock = io.StringIO(), FakeClock()
    printer = ProgressPrinter(out, every_s=3600, clock=clock)
    for n in (1, 2, 3):
        printer(step(n, total=3))
        clock.now += 1.0
    assert [line.split()[1] for line in out.getvalue().splitlines()] == ["1/3", "3/3"]


def test_a_resumed_run_measures_its_rate_from_its_own_first_report():
    out, clock = io.StringIO(), FakeClock()
    printer = ProgressPrinter(out, every_s=10, clock=clock)
    printer(step(500, total=1000))  # resumed at step 500: the steps before were not timed here
    clock.now += 10.0
    printer(step(510, total=1000))  # 1 step/s
    assert out.getvalue().splitlines()[1].endswith("ETA 8:10 (51 %)")
