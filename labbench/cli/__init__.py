"""The ``labbench`` command: one module per subcommand, each adding its parser with ``add_parser(sub)``.

Exit codes (``labbench.cli.interrupts``): 0 done, 1 failed, 2 usage (bad arguments, config or data
path; nothing ran), 130 / 143 interrupted by Ctrl+C / SIGTERM (training saves a checkpoint first), 141 the reader
of the output went away.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

from labbench import __version__
from labbench.cli import data, evaluate, export, gui, presets, runs, study, train
from labbench.cli.interrupts import EXIT_FAILED, EXIT_USAGE, STOP_SIGNALS, interrupted_exit_code
from labbench.errors import ConfigError, DataError, LabbenchError

COMMANDS = (train, runs, presets, evaluate, export, study, data, gui)

#: the exit status of a process ended by SIGPIPE (128 + 13), what ``cat`` reports when ``head`` closes the pipe
EXIT_BROKEN_PIPE = 141


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="labbench", description="Self-supervised learning lab bench.",
        epilog="exit codes: 0 done, 1 failed, 2 usage (nothing ran), 130/143 interrupted by Ctrl+C/SIGTERM "
               "(training saves a checkpoint first)")
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
    except (ConfigError, DataError) as err:  # the input was refused before anything ran
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except LabbenchError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_FAILED
    except BrokenPipeError:
        # The reader went away (``labbench presets | head -3``): stop quietly, as cat does. Point
        # stdout at /dev/null so that the interpreter's final flush cannot raise a second time.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt as err:
        print(f"\ninterrupted ({err or 'SIGINT'}); nothing was left half-written", file=sys.stderr)
        return interrupted_exit_code(err)


def run() -> None:
    """The process entry (console script, ``python -m labbench``): once the command has returned, its work
    is saved, so a late Ctrl+C or SIGTERM during the interpreter's shutdown must not end it as killed."""
    status = main()
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    sys.exit(status)


if __name__ == "__main__":
    run()
