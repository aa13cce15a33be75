"""One torch thread for the inspector tests (their tiny real runs come from tests/conftest.py).

Tiny tensors gain nothing from several threads, and on a shared machine the threads only wait
for each other.
"""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
