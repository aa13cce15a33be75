"""What the terminal shows while work runs: a progress line for training, a percentage for long steps."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import TextIO


def format_eta(seconds: float) -> str:
    """Time left as a clock reads: ``1:15``, ``1:02:05`` (the terminal and the window both show it)."""
    seconds = int(max(seconds, 0))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def reference_text(raw_pixels_knn: float | None, untrained_knn: float | None) -> str:
    """" · raw pixels 21.0 % · untrained 24.0 %": the k-NN a learned encoder must beat (empty when unknown)."""
    parts = [f"{label} {100 * value:.1f} %" for label, value in (("raw pixels", raw_pixels_knn),
                                                                 ("untrained", untrained_knn)) if value is not None]
    return "".join(f" · {part}" for part in parts)


class ProgressPrinter:
    """Turns engine events into what the terminal shows while a run trains.

    On a terminal, one progress bar redrawn in place. Elsewhere (a CI log, ``nohup``, a pipe) a
    ``\r`` bar would be one endless line, so a plain progress line is written every ``every_s``
    seconds instead, the first at the first step report. Epoch summaries, log lines and the end
    are written as lines in both cases.
    """

    def __init__(self, stream: TextIO | None = None, every_s: float = 30.0,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        from labbench.evaluate.collapse import EpochVerdicts  # the one collapse verdict, as the window shows it

        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.verdicts = EpochVerdicts()
        self.every_s = every_s
        self.clock = clock
        self.first: tuple[float, int] | None = None  # (time, step) of the first step report: the rate's origin
        self.last_line_at: float | None = None
        self.reference = ""  # " · raw pixels 21 % · untrained 24 %" once the run has measured them

    def eta(self, step: int, total_steps: int, now: float) -> str:
        """Time left at the rate since the first step report ("--" until there is one to measure)."""
        if self.first is None:
            self.first = (now, step)
        t0, s0 = self.first
        if step <= s0 or now <= t0:
            return "--"
        return format_eta((total_steps - step) * (now - t0) / (step - s0))

    def __call__(self, event) -> None:
        kind = event.kind
        if kind == "step":
            self._step(event)
        elif kind == "reference":
            self.reference = reference_text(event.raw_pixels_knn, event.untrained_knn)
        elif kind == "epoch":
            knn = "n/a (unlabelled)" if event.knn_accuracy is None else f"{100 * event.knn_accuracy:.1f} %{self.reference}"
            self._line(
                f"epoch {event.epoch:>3}  step {event.step:>6}  k-NN {knn}  feature std {event.feature_std:.4f}  "
                f"effective rank {event.effective_rank:.1f}  {event.images_per_sec:,.0f} img/s"
            )
        if kind in ("epoch", "probe"):
            found = self.verdicts.add(asdict(event))
            if found is not None and found.collapsed:
                self._line(f"warning: epoch {self.verdicts.epoch}: {found.words}; {found.advice}")
        elif kind == "log":
            self._line(("" if event.level == "info" else f"{event.level}: ") + event.message)
        elif kind == "finished":
            self._line(f"{event.status}: {event.message}")
            if event.run_dir:
                self._line(f"run folder: {event.run_dir}")

    def _step(self, event) -> None:
        now = self.clock()
        eta = self.eta(event.step, event.total_steps, now)
        done = event.step / max(event.total_steps, 1)
        figures = (f"step {event.step}/{event.total_steps} epoch {event.epoch + 1} loss {event.loss:.4f} "
                   f"lr {event.lr:.3g} {event.images_per_sec:,.0f} img/s ETA {eta}")
        if self.tty:
            bar = "#" * int(30 * done) + "." * (30 - int(30 * done))
            self.stream.write(f"\r[{bar}] {figures}  ")
            self.stream.flush()
            return
        if self.last_line_at is None or now - self.last_line_at >= self.every_s or event.step == event.total_steps:
            self.last_line_at = now
            self._line(f"{figures} ({100 * done:.0f} %)")

    def _line(self, text: str) -> None:
        self.stream.write(("\r\033[K" if self.tty else "") + text + "\n")
        self.stream.flush()


def percent_reporter(label: str, stream=sys.stderr):
    """A ``progress(done, total)`` callback that keeps one ``label NN %`` line up to date on a terminal."""
    if not stream.isatty():
        return None

    def report(done: int, total: int) -> bool:
        stream.write(f"\r{label} {100 * done / max(total, 1):3.0f} %" + ("\n" if done >= total else ""))
        stream.flush()
        return True

    return report
