"""``labbench gui``: the window, started as its own module (the engine never imports Qt)."""

from __future__ import annotations

import argparse
import os
import sys


def cmd_gui(args: argparse.Namespace) -> int:
    # The window lives in the ui package, which the engine never imports: start it as its own module.
    os.execv(sys.executable, [sys.executable, "-m", "ui", *args.gui_args])
    return 0  # not reached


def add_parser(sub) -> None:
    p = sub.add_parser("gui", help="open the lab bench window")
    p.add_argument("gui_args", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_gui)
