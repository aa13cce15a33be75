"""The ``labbench`` command: one module per subcommand, each adding its parser with ``add_parser(sub)``."""

from __future__ import annotations

import argparse
import sys

from labbench.cli import data, evaluate, export, gui, presets, runs, train
from labbench.errors import LabbenchError

COMMANDS = (train, runs, presets, evaluate, export, data, gui)


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="labbench", description="Self-supervised learning lab bench.")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    try:
        return args.func(args)
    except LabbenchError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
