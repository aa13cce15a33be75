"""``labbench train``: a run from a preset, a config file and overrides, or a resumed run folder."""

from __future__ import annotations

import argparse
import os

from labbench.cli.common import add_config_args, build_config, resume_config
from labbench.cli.interrupts import EXIT_DONE, EXIT_FAILED, StopOnSignal
from labbench.cli.progress import ProgressPrinter


def cmd_train(args: argparse.Namespace) -> int:
    from labbench.engine import Control, Trainer

    control = Control()
    callbacks = [] if distributed_rank_env_nonzero() else [ProgressPrinter(every_s=args.progress_every)]
    if args.resume:
        trainer = Trainer(resume_config(args), callbacks, control, run_dir=args.resume)
    else:
        trainer = Trainer(build_config(args), callbacks, control, runs_root=args.runs_dir)
    with StopOnSignal(control) as signals:  # Ctrl+C and SIGTERM: stop at the step boundary, save, then exit
        result = trainer.fit()
    if result.status in ("failed", "diverged"):
        return EXIT_FAILED
    return 128 + signals.signum if signals.signum else EXIT_DONE


def distributed_rank_env_nonzero() -> bool:
    """Under torchrun, only rank 0 prints (the process group is not up yet when callbacks are made)."""
    return int(os.environ.get("RANK", "0")) != 0


def add_parser(sub) -> None:
    p = sub.add_parser("train", help="train a method (headless)")
    add_config_args(p)
    p.add_argument("--runs-dir", help="where run folders go (default: $LABBENCH_RUNS or ./runs)")
    p.add_argument("--resume", metavar="RUN_DIR",
                   help="continue a run from its last checkpoint; --set and --data may change what a resume "
                        "accepts (epochs, time budget, device, logging, batch size, data folder)")
    p.add_argument("--tensorboard", action="append_const", dest="set", const="train.tensorboard=true",
                   help="also write TensorBoard logs into the run folder (same as --set train.tensorboard=true)")
    p.add_argument("--progress-every", type=float, default=30.0, metavar="SECONDS",
                   help="when the output is not a terminal (a CI log, nohup), a progress line this often (default: 30)")
    p.set_defaults(func=cmd_train)
