"""The CUDA tests (``pytest -m cuda``): the device they run on, and deterministic kernels for exact resume.

They run on the GPU when there is one and are skipped otherwise. ``LABBENCH_TEST_DEVICE=cpu`` runs the
same tests on the CPU (bf16 autocast and channels_last exist there too): how a machine without a GPU
checks the tests themselves, and how ``benchmarks/gpu_suite.py --device cpu`` runs end to end.
"""

from __future__ import annotations

import os

import pytest
import torch

# cuBLAS picks a deterministic reduction only with a fixed workspace, which must be set before CUDA starts
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")


def test_device() -> str | None:
    """``cuda`` when a GPU is there, else what ``LABBENCH_TEST_DEVICE`` names, else None (skip)."""
    return os.environ.get("LABBENCH_TEST_DEVICE") or ("cuda" if torch.cuda.is_available() else None)


test_device.__test__ = False  # a helper, not a test


@pytest.fixture
def device() -> str:
    found = test_device()
    if found is None:
        pytest.skip("needs a CUDA GPU (or LABBENCH_TEST_DEVICE=cpu to run these tests on the CPU)")
    return found


@pytest.fixture
def deterministic():
    """Deterministic kernels (cuDNN's convolutions otherwise sum in a varying order): the same steps, the same bits."""
    before = torch.are_deterministic_algorithms_enabled(), torch.backends.cudnn.benchmark
    torch.use_deterministic_algorithms(True)
    torch.backends.cudnn.benchmark = False
    yield
    torch.use_deterministic_algorithms(before[0])
    torch.backends.cudnn.benchmark = before[1]
