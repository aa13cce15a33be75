"""``labbench gui`` (and the ``labbench-gui`` script): the window, started as its own module.

The window needs the ``[gui]`` extra (PySide6, pyqtgraph); the headless core does not, so without
them this says how to add them instead of failing on an import deep in the ``ui`` package.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys

from labbench.errors import LabbenchError

GUI_PACKAGES = ("PySide6", "pyqtgraph")
INSTALL_HINT = "pip install 'ssl-labbench[gui]'"


def missing_gui_packages() -> list[str]:
    """The packages of the ``[gui]`` extra that this Python cannot import."""
    return [name for name in GUI_PACKAGES if importlib.util.find_spec(name) is None]


def open_window(gui_args: list[str]) -> None:
    missing = missing_gui_packages()
    if missing:
        raise LabbenchError(
            f"the window needs {' and '.join(missing)}, which this installation lacks (the headless core "
            f"trains, evaluates and exports without them); add them with: {INSTALL_HINT}"
        )
    # The window lives in the ui package, which the engine never imports: start it as its own module.
    os.execv(sys.executable, [sys.executable, "-m", "ui", *gui_args])


def cmd_gui(args: argparse.Namespace) -> int:
    return main(args.gui_args)


def main(gui_args: list[str] | None = None) -> int:
    """The ``labbench-gui`` script; exit 2 (usage: nothing ran) when the extra is missing."""
    try:
        open_window(sys.argv[1:] if gui_args is None else gui_args)
    except LabbenchError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0  # not reached: execv replaced this process


def add_parser(sub) -> None:
    p = sub.add_parser("gui", help="open the lab bench window (needs the [gui] extra)")
    p.add_argument("gui_args", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_gui)
