"""What the terminal shows while work runs: a progress line for training, a percentage for long steps."""

from __future__ import annotations

import sys
import time


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
    """Turns engine events into a one-line progress bar (a line per epoch when not on a terminal)."""

    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.start = time.perf_counter()
        self.reference = ""  # " · raw pixels 21 % · untrained 24 %" once the run has measured them

    def __call__(self, event) -> None:
        kind = event.kind
        if kind == "step" and self.tty:
            done = event.step / max(event.total_steps, 1)
            bar = "#" * int(30 * done) + "." * (30 - int(30 * done))
            eta = (time.perf_counter() - self.start) * (1 - done) / max(done, 1e-9)
            self.stream.write(
                f"\r[{bar}] step {event.step}/{event.total_steps} epoch {event.epoch + 1} "
                f"loss {event.loss:.4f} lr {event.lr:.3g} {event.images_per_sec:,.0f} img/s ETA {format_eta(eta)}  "
            )
            self.stream.flush()
        elif kind == "reference":
            self.reference = reference_text(event.raw_pixels_knn, event.untrained_knn)
        elif kind == "epoch":
            knn = "n/a (unlabelled)" if event.knn_accuracy is None else f"{100 * event.knn_accuracy:.1f} %{self.reference}"
            self._line(
                f"epoch {event.epoch:>3}  step {event.step:>6}  k-NN {knn}  feature std {event.feature_std:.4f}  "
                f"effective rank {event.effective_rank:.1f}  {event.images_per_sec:,.0f} img/s"
            )
        elif kind == "log":
            self._line(("" if event.level == "info" else f"{event.level}: ") + event.message)
        elif kind == "finished":
            self._line(f"{event.status}: {event.message}")
            if event.run_dir:
                self._line(f"run folder: {event.run_dir}")

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
