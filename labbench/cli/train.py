"""``labbench train``: a run from a preset, a config file and overrides, or a resumed run folder."""

from __future__ import annotations

import argparse
import os
import signal
import sys

from labbench.cli.common import add_config_args, build_config
from labbench.cli.progress import ProgressPrinter


def _install_stop_on_interrupt(control) -> None:
    """First Ctrl+C stops at the next step and saves a checkpoint; a second one exits at once."""

    def handler(signum, frame):
        if control.stop_requested:
            raise KeyboardInterrupt
        print("\nstopping after this step (Ctrl+C again to abort without saving)…", file=sys.stderr)
        control.stop()

    signal.signal(signal.SIGINT, handler)


def cmd_train(args: argparse.Namespace) -> int:
    from labbench.engine import Control, Trainer

    control = Control()
    _install_stop_on_interrupt(control)
    callbacks = [] if distributed_rank_env_nonzero() else [ProgressPrinter(every_s=args.progress_every)]
    if args.resume:
        trainer = Trainer.resume(args.resume, callbacks, control)
    else:
        trainer = Trainer(build_config(args), callbacks, control, runs_root=args.runs_dir)
    result = trainer.fit()
    return 0 if result.status in ("completed", "stopped") else 1


def distributed_rank_env_nonzero() -> bool:
    """Under torchrun, only rank 0 prints (the process group is not up yet when callbacks are made)."""
    return int(os.environ.get("RANK", "0")) != 0


def add_parser(sub) -> None:
    p = sub.add_parser("train", help="train a method (headless)")
    add_config_args(p)
    p.add_argument("--runs-dir", help="where run folders go (default: $LABBENCH_RUNS or ./runs)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue a run from its last checkpoint")
    p.add_argument("--tensorboard", action="append_const", dest="set", const="train.tensorboard=true",
                   help="also write TensorBoard logs into the run folder (same as --set train.tensorboard=true)")
    p.add_argument("--progress-every", type=float, default=30.0, metavar="SECONDS",
                   help="when the output is not a terminal (a CI log, nohup), a progress line this often (default: 30)")
    p.set_defaults(func=cmd_train)
