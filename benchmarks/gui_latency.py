"""How responsive the window stays while it trains: the real window, the default preset, a 5 ms probe.

    xvfb-run -a -s "-screen 0 1366x768x24" .venv/bin/python benchmarks/gui_latency.py            # 90 s of training
    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/gui_latency.py --seconds 5 --tiny      # does it work?

The window opens as a person opens it (SimCLR on the built-in shapes, its preset), loads its
dataset, then Start is pressed. A ``QTimer`` that asks to fire every 5 ms (a precise timer) stamps
every tick it gets: a gap longer than 5 ms is time the GUI thread could not answer — drawing,
handling engine events, or waiting for the Python lock the training thread holds. Printed: the
gaps' p50, p99 and maximum and how many exceed 50 ms (what a person notices), and how long after
Start the first step event arrived and the first point was on the loss plot; with the machine
line, since the figures mean something only for the machine they were taken on. ``--tiny`` trains
a 16-px set instead of the preset, to check the script in seconds. ``--trace`` says what the GUI
thread was doing in each gap over 50 ms: a watchdog thread samples its stack while the probe is
late, and garbage-collector passes are timed. The sampling thread takes the interpreter lock every
2 ms itself: take the figures without ``--trace``.
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

import numpy as np
import torch
from measure import machine_line

PROBE_MS = 5
NOTICEABLE_MS = 50
TINY = ["data.image_size=16", "data.num_images=400", "train.batch_size=32", "train.log_every_steps=5",
        "eval.max_bank=200", "eval.max_eval=100"]


class Probe:
    """Stamps every tick of a 5 ms precise QTimer, and the first moment ``seen()`` holds."""

    def __init__(self, seen) -> None:
        from PySide6.QtCore import QTimer, Qt

        self.ticks: list[float] = []
        self.seen = seen
        self.first_seen: float | None = None
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(PROBE_MS)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.ticks.append(now)
        if self.first_seen is None and self.seen():
            self.first_seen = now

    def gaps_ms(self) -> np.ndarray:
        return np.diff(np.asarray(self.ticks)) * 1000


class StallTracer(threading.Thread):
    """Samples the GUI thread's stack whenever the probe is more than ``late_ms`` late; times gc passes.

    The sample names the Python line the GUI thread is on (or waiting in) during a stall, which is
    what a fix needs; a full garbage-collector pass stops every thread and is timed separately.
    """

    def __init__(self, probe: Probe, late_ms: float = 25.0) -> None:
        super().__init__(daemon=True)
        self.probe, self.late = probe, late_ms / 1000
        self.gui_thread = threading.main_thread().ident
        self.samples: list[tuple[float, str]] = []
        self.collections: list[tuple[float, float, int]] = []  # (start, seconds, generation)
        self.running = True
        self._gc_start = 0.0
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
        else:
            self.collections.append((self._gc_start, time.perf_counter() - self._gc_start, info["generation"]))

    def run(self) -> None:
        while self.running:
            time.sleep(0.002)
            ticks = self.probe.ticks
            if ticks and time.perf_counter() - ticks[-1] > self.late:
                frame = sys._current_frames().get(self.gui_thread)
                if frame is not None:
                    stack = traceback.extract_stack(frame)[-6:]
                    self.samples.append((time.perf_counter(), " ← ".join(
                        f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(stack))))

    def report(self, gaps_over: list[tuple[float, float]], started: float) -> None:
        self.running = False
        gc.callbacks.remove(self._on_gc)
        for begin, end in gaps_over:
            print(f"  gap {1000 * (end - begin):.0f} ms at {begin - started:.1f} s after Start")
            for start, seconds, generation in self.collections:
                if begin <= start <= end:
                    print(f"    gc generation {generation}: {1000 * seconds:.0f} ms")
            seen: set[str] = set()
            for when, stack in self.samples:
                if begin <= when <= end + 0.005 and stack not in seen:
                    seen.add(stack)
                    print(f"    GUI thread: {stack}")
        full = [s for _, s, g in self.collections if g == 2]
        if full:
            print(f"  full gc passes: {len(full)}, longest {1000 * max(full):.0f} ms")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=90.0, help="how long to measure after Start")
    parser.add_argument("--tiny", action="store_true", help="a 16-px set instead of the preset: a quick check")
    parser.add_argument("--trace", action="store_true", help="say what the GUI thread did in each gap over 50 ms")
    args = parser.parse_args(argv)

    from PySide6.QtCore import QSettings

    scratch = Path(tempfile.mkdtemp(prefix="labbench-gui-latency-"))
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(scratch / "settings"))
    from ui.app import create_application, settle, wait_until

    app = create_application([])
    from labbench.run_config import apply_overrides
    from ui.main_window import MainWindow, default_config

    config = default_config()
    if args.tiny:
        config = apply_overrides(config, TINY)
    window = MainWindow(config=config, runs_root=scratch / "runs")
    window.show()

    if not wait_until(lambda: window.browser.model.rowCount() > 0 and window.preview.panels, 300):
        raise SystemExit("the dataset or the preview did not appear within 5 minutes")
    first_step: list[float] = []
    window.session.step.connect(lambda _event: first_step or first_step.append(time.perf_counter()))
    steps: list = []
    window.session.step.connect(steps.append)
    probe = Probe(lambda: window.plots.point_count("loss_raw") > 0)
    probe.timer.start()
    settle(2.0)  # the idle window's own rhythm first
    idle = probe.gaps_ms()
    started = time.perf_counter()
    window.start_training()
    probe.ticks = [started]
    tracer = StallTracer(probe) if args.trace else None
    if tracer:
        tracer.start()
    wait_until(lambda: time.perf_counter() - started > args.seconds or not window.session.is_active(), args.seconds + 60)
    probe.timer.stop()
    gaps = probe.gaps_ms()
    images_per_sec = np.mean([e.images_per_sec for e in steps[1:]]) if len(steps) > 1 else float("nan")
    window.close()

    print(machine_line(torch.device("cpu")))
    print(f"window {window.width()}×{window.height()} on {app.platformName()}, "
          f"{'tiny 16-px set' if args.tiny else 'the default preset (SimCLR on shapes)'}, "
          f"{time.perf_counter() - started:.0f} s measured, {len(steps)} step events, {images_per_sec:,.0f} img/s")
    print(f"probe every {PROBE_MS} ms; idle window before Start: p50 {np.percentile(idle, 50):.1f} ms, "
          f"max {idle.max():.1f} ms")
    print(f"while training: stall p50 {np.percentile(gaps, 50):.1f} ms · p99 {np.percentile(gaps, 99):.1f} ms · "
          f"max {gaps.max():.1f} ms · {(gaps > NOTICEABLE_MS).sum()} gaps over {NOTICEABLE_MS} ms in {len(gaps)} ticks")
    first_event = f"{first_step[0] - started:.2f} s" if first_step else "none"
    first_point = f"{probe.first_seen - started:.2f} s" if probe.first_seen else "none"
    if tracer:
        ticks = np.asarray(probe.ticks)
        late = np.flatnonzero(np.diff(ticks) * 1000 > NOTICEABLE_MS)
        tracer.report([(ticks[i], ticks[i + 1]) for i in late], started)
    print(f"after Start: first step event {first_event} · first point on the loss plot {first_point}")


if __name__ == "__main__":
    main()
