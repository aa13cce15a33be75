"""The ``labbench`` command: one module per subcommand, each adding its parser with ``add_parser(sub)``.

Exit codes (``labbench.cli.interrupts``): 0 done, 1 failed, 2 usage (bad arguments or config; nothing
ran), 130 / 143 interrupted by Ctrl+C / SIGTERM (training saves a checkpoint first).
"""

from __future__ import annotations

import argparse
import sys

from labbench.cli import evaluate, export, gui, presets, runs, train
from labbench.cli.interrupts import EXIT_FAILED, EXIT_USAGE, interrupted_exit_code
from labbench.errors import ConfigError, LabbenchError

COMMANDS = (train, runs, presets, evaluate, export, gui)


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="labbench", description="Self-supervised learning lab bench.",
        epilog="exit codes: 0 done, 1 failed, 2 usage (nothing ran), 130/143 interrupted by Ctrl+C/SIGTERM "
               "(training saves a checkpoint first)")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except LabbenchError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt as err:
        print(f"\ninterrupted ({err or 'SIGINT'}); nothing was left half-written", file=sys.stderr)
        return interrupted_exit_code(err)


if __name__ == "__main__":
    sys.exit(main())
