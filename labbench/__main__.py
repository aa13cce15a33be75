"""``python -m labbench`` (and ``torchrun -m labbench train …``)."""

import sys

from labbench.cli import main

sys.exit(main())
