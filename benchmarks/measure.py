"""What every benchmark prints beside its numbers: the machine, the date, the load, memory, a table."""

from __future__ import annotations

import datetime
import os
import platform
import resource
import time

import torch

from labbench.engine import StepEvent
from labbench.engine.device import physical_cores


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def machine_line(device: torch.device) -> str:
    """Where and when the numbers were taken, and how busy the machine was (other processes disturb timings)."""
    if device.type == "cuda":
        where = f"{torch.cuda.get_device_name(device)}, {physical_cores()} CPU cores"
    else:
        where = f"{cpu_name()}, {physical_cores()} physical cores"
    load = "/".join(f"{v:.1f}" for v in os.getloadavg())
    return f"{datetime.date.today().isoformat()} · {where} · load average {load} · torch {torch.__version__}"


def peak_rss_mib() -> float:
    """Largest resident set of this process so far (MiB), memory-mapped file pages included."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_parts_mib() -> dict[str, float]:
    """Resident memory now (MiB), split into private memory (RssAnon) and mapped-file pages (RssFile),
    which the kernel can drop and read back at will."""
    parts = {}
    try:
        with open("/proc/self/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "RssAnon", "RssFile"):
                    parts[key] = int(value.split()[0]) / 1024
    except OSError:
        pass
    return parts


def mapped_rss_mib(folder: str) -> float:
    """Resident pages (MiB) of the files under ``folder`` that this process has memory-mapped."""
    total, inside = 0, False
    try:
        with open("/proc/self/smaps") as f:
            for line in f:
                head = line.split()
                if head and "-" in head[0] and len(head) >= 5:  # a mapping's header: address range … path
                    inside = len(head) >= 6 and head[5].startswith(folder)
                elif inside and head and head[0] == "Rss:":
                    total += int(head[1])
    except OSError:
        return float("nan")
    return total / 1024


def print_table(headers: list[str], rows: list[list[str]]) -> None:
    """A Markdown table (pastes into the README as it is)."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |", flush=True)


class StepClock:
    """A trainer callback noting when each reported step ended: images/s between the first and the last
    report leave out set-up, compilation of the first step and the final evaluation."""

    def __init__(self) -> None:
        self.stamps: list[tuple[int, float]] = []
        self.losses: list[float] = []

    def __call__(self, event) -> None:
        if isinstance(event, StepEvent):
            self.stamps.append((event.step, time.perf_counter()))
            self.losses.append(event.loss)

    def loss_fall(self, window: int = 10) -> tuple[float, float]:
        """Mean loss of the first and of the last ``window`` reports: did the loss fall?"""
        w = max(1, min(window, len(self.losses) // 2))
        return sum(self.losses[:w]) / w, sum(self.losses[-w:]) / w

    def images_per_sec(self, batch_size: int) -> float:
        if len(self.stamps) < 2:
            return float("nan")
        (first, t0), (last, t1) = self.stamps[0], self.stamps[-1]
        return (last - first) * batch_size / (t1 - t0)
