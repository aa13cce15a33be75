"""``python -m labbench`` (and ``torchrun -m labbench train …``)."""

from labbench.cli import run

run()
