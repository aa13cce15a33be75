"""Shared helpers for the reliability tests: tiny configs and image files made on the spot."""

from __future__ import annotations

import io
import json
import os
import signal
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from labbench.run_config import RunConfig, apply_overrides

TINY = [
    "data.source=shapes", "data.image_size=16", "data.num_images=64",
    "backbone.name=cnn", "backbone.width=8",
    "method.name=simclr", "method.projection_dim=16",
    "optim.name=sgd", "optim.lr=0.05", "optim.warmup_epochs=0",
    "train.epochs=1", "train.batch_size=16", "train.log_every_steps=1", "train.device=cpu",
    "train.num_threads=1", "eval.max_bank=32", "eval.max_eval=16", "eval.knn_k=5", "eval.probe_images=0",
]


@pytest.fixture
def tiny_config() -> RunConfig:
    """SimCLR on 64 shapes of 16 px with a width-8 CNN: a few steps in well under a second."""
    return apply_overrides(RunConfig(), TINY)


def image_bytes(mode: str = "RGB", size: tuple[int, int] = (20, 12), fmt: str = "PNG", seed: int = 0) -> bytes:
    """An encoded image of random pixels in ``mode`` (RGB, RGBA, L, P, CMYK, I;16)."""
    rng = np.random.default_rng(seed)
    w, h = size
    if mode == "I;16":
        im = Image.fromarray(rng.integers(0, 65535, (h, w), dtype=np.uint16))
    elif mode == "P":
        im = Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).convert("P")
    else:
        channels = {"RGB": 3, "RGBA": 4, "L": 1, "CMYK": 4}[mode]
        pixels = rng.integers(0, 255, (h, w, channels), dtype=np.uint8)
        im = Image.fromarray(pixels[..., 0] if channels == 1 else pixels, mode)
    buffer = io.BytesIO()
    im.save(buffer, format=fmt)
    return buffer.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width``×``height`` RGB pixels, with no pixel data behind it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.fixture
def deadline():
    """Fail (instead of hanging the suite) when the test body takes longer than ``seconds``."""

    def arm(seconds: int) -> None:
        def fail(*_):
            raise TimeoutError(f"took longer than {seconds} s (blocked on a file?)")

        signal.signal(signal.SIGALRM, fail)
        signal.alarm(seconds)

    yield arm
    signal.alarm(0)


# -- the labbench command, as a person runs it ----------------------------------------------------

REPO = Path(__file__).resolve().parents[2]
#: TINY as command-line overrides over the simclr preset (its source, shapes, unless --data says otherwise)
TINY_SETS = [arg for item in TINY if not item.startswith("data.source=") for arg in ("--set", item)]


def labbench(*args: str, **popen) -> subprocess.Popen:
    """``python -m labbench ARGS`` in its own process (this checkout's package), output captured."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "labbench", *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen)


def wait_for(condition, timeout: float = 120.0, proc: subprocess.Popen | None = None) -> None:
    """Poll ``condition()`` until it holds; fail when ``proc`` ends first or time runs out."""
    deadline = time.monotonic() + timeout
    while not condition():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the process ended first (exit {proc.returncode}): {proc.communicate()[1][-2000:]}")
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def step_records(run_dir: Path) -> list[int]:
    """The steps of the step records in a run's metrics.jsonl as written (every line, no repair)."""
    path = Path(run_dir) / "metrics.jsonl"
    if not path.is_file():
        return []
    steps = []
    for line in path.read_bytes().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("kind") == "step":
            steps.append(record["step"])
    return steps


def temporary_files(folder: Path) -> list[Path]:
    """Temporary files and staging folders an interrupted write would leave."""
    return [p for p in Path(folder).rglob("*")
            if p.name.endswith(".tmp") or ".tmp." in p.name or p.name.startswith(".export-")]


@pytest.fixture
def small_disk(tmp_path):
    """``make(size)``: a real tmpfs of ``size`` mounted in a fresh folder (unmounted afterwards), so a
    write can really fail with ENOSPC or EROFS; skipped where mounting is not allowed (not root)."""
    mounted = []

    def make(size: str = "4m") -> Path:
        where = tmp_path / f"disk{len(mounted)}"
        where.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a small file system here ({done.stderr.strip() or 'not root'})")
        mounted.append(where)
        return where

    yield make
    for where in mounted:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def fill(disk: Path, leave: int) -> Path:
    """Fill the file system of ``disk`` with one file until about ``leave`` bytes are free."""
    free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
    filler = disk / "filler"
    with open(filler, "wb") as f:
        f.write(b"\0" * max(0, free - leave))
    return filler


def remount_read_only(disk: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True, capture_output=True)


def image_folder(root: Path, per_class: int, shade: int = 0) -> Path:
    """A labelled folder: ``per_class`` small PNGs in each of red/ and blue/ (``shade`` varies the set)."""
    for cls, colour in (("red", (200, 30, 30)), ("blue", (30, 30, 200))):
        (root / cls).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            pixel = tuple(min(255, c + 3 * i + shade) for c in colour)
            Image.new("RGB", (12, 12), pixel).save(root / cls / f"{i}.png")
    return root


def break_training_step(monkeypatch, after: int, make_loss=None, error: BaseException | None = None) -> None:
    """From the ``after``-th training call on (0-based), SimCLR's loss is ``make_loss(loss)`` or ``error``
    is raised."""
    from labbench.methods.simclr import SimCLR

    original, calls = SimCLR.training_step, [0]

    def training_step(self, *args, **kwargs):
        calls[0] += 1
        if calls[0] > after and error is not None:
            raise error
        loss, metrics = original(self, *args, **kwargs)
        return (make_loss(loss) if calls[0] > after else loss), metrics

    monkeypatch.setattr(SimCLR, "training_step", training_step)
