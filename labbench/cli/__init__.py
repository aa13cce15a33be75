"""The ``labbench`` command: one module per subcommand, each adding its parser with ``add_parser(sub)``."""

from __future__ import annotations

import argparse
import os
import sys

from labbench import __version__
from labbench.cli import data, evaluate, export, gui, presets, runs, study, train
from labbench.errors import LabbenchError

COMMANDS = (train, runs, presets, evaluate, export, study, data, gui)

#: the exit status of a process ended by SIGPIPE (128 + 13), what ``cat`` reports when ``head`` closes the pipe
EXIT_BROKEN_PIPE = 141


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="labbench", description="Self-supervised learning lab bench.")
    parser.add_argument("--version", action="version", version=f"labbench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    try:
        status = args.func(args)
        sys.stdout.flush()  # inside the try: a pipe closed early shows up here, at the latest
        return status
    except LabbenchError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (``labbench presets | head -3``): stop quietly, as cat does. Point
        # stdout at /dev/null so that the interpreter's final flush cannot raise a second time.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


if __name__ == "__main__":
    sys.exit(main())
