"""Helpers for the data tests: small image files written with PIL into tmp_path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from labbench.data import decode


def _write_image(path: Path, size=(12, 10), colour=(200, 30, 30), mode="RGB", fmt=None) -> Path:
    """A flat-colour image file (its folders made); ``size`` is (width, height)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).convert(mode).save(path, format=fmt)
    return path


def _write_noise(path: Path, size=(12, 10), seed=0) -> Path:
    """A random-pixel PNG, so that every image differs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return path


@pytest.fixture(autouse=True)
def fresh_decode_memo():
    """Each test sees the files it wrote, not a store decoded by an earlier test."""
    decode._decode_once.cache_clear()
    yield
    decode._decode_once.cache_clear()


@pytest.fixture
def write_image():
    return _write_image


@pytest.fixture
def write_noise():
    return _write_noise
