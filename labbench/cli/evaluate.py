"""``labbench eval``: runs scored by k-NN, linear probe and fine-tuning, next to the baselines."""

from __future__ import annotations

import argparse
import sys

from labbench.cli.common import at_least_one, split_names
from labbench.cli.interrupts import AbortOnSignal
from labbench.cli.progress import percent_reporter
from labbench.config import DEVICES


def cmd_eval(args: argparse.Namespace) -> int:
    from labbench.scoring import evaluate_run, format_table, results_table

    with AbortOnSignal():
        for run_dir in args.run_dirs:
            try:
                evaluate_run(
                    run_dir, split_names(args.protocols), data=args.data, device=args.device,
                    baselines=not args.no_baselines, max_train=args.max_train, finetune_epochs=args.finetune_epochs,
                    progress=percent_reporter(f"evaluating {run_dir}"),
                )
            except KeyboardInterrupt:
                print(f"\nevaluation of {run_dir} interrupted: its eval.json is unchanged", file=sys.stderr)
                raise
    print(format_table(results_table(args.run_dirs, include_baselines=not args.no_baselines)))
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser("eval", help="score runs by k-NN, linear probe and fine-tuning, next to baselines")
    p.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="run folder(s); the table compares them")
    p.add_argument("--protocols", default="knn,linear,finetune", help="comma-separated (default: knn,linear,finetune)")
    p.add_argument("--data", help="evaluate on another labelled source or folder (default: the run's own data); "
                                  "results are kept per data set")
    p.add_argument("--device", default="auto", choices=DEVICES, help="where to compute (default: auto)")
    p.add_argument("--max-train", type=at_least_one, help="use at most this many labelled training images (default: all)")
    p.add_argument("--finetune-epochs", type=at_least_one, default=5, help="epochs of end-to-end fine-tuning (default: 5)")
    p.add_argument("--no-baselines", action="store_true", help="skip the random-init and raw-pixel baselines")
    p.set_defaults(func=cmd_eval)
