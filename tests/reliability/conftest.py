"""Shared helpers for the reliability tests: tiny configs and image files made on the spot."""

from __future__ import annotations

import io
import signal
import struct
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
