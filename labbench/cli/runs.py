"""``labbench runs``: every run folder with its last figures, as a table or as CSV for other tools."""

from __future__ import annotations

import argparse
import csv
import sys

from labbench.cli.progress import reference_text

#: the CSV's columns: RunInfo fields, figures unrounded (k-NN accuracies as fractions)
CSV_COLUMNS = ("run", "path", "method", "backbone", "data", "status", "step", "epoch", "loss", "knn_accuracy",
               "raw_pixels_knn", "untrained_knn")


def write_csv(runs, stream) -> None:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in runs:
        writer.writerow([r.name, str(r.path), r.method, r.backbone, r.dataset, r.status, r.step, r.epoch, r.loss,
                         r.knn_accuracy, r.raw_pixels_knn, r.untrained_knn])  # None is written as an empty cell


def print_table(runs) -> None:
    status_width = max(11, *(len(r.status) for r in runs))  # "failed: disk full"
    print(f"{'run':<44} {'method':<10} {'backbone':<10} {'data':<8} {'status':<{status_width}} {'step':>7} {'loss':>8} "
          f"{'k-NN':>7}  (raw pixels · untrained)")
    for r in runs:
        knn = "" if r.knn_accuracy is None else f"{100 * r.knn_accuracy:.1f}%"
        loss = "" if r.loss is None else f"{r.loss:.4f}"
        print(f"{r.name:<44} {r.method or '?':<10} {r.backbone or '?':<10} {r.dataset or '?':<8} "
              f"{r.status:<{status_width}} {r.step if r.step is not None else '':>7} {loss:>8} {knn:>7}"
              f"{reference_text(r.raw_pixels_knn, r.untrained_knn)}")


def cmd_runs(args: argparse.Namespace) -> int:
    from labbench.runs import list_runs

    runs = list_runs(args.runs_dir)
    if args.csv:
        write_csv(runs, sys.stdout)  # the header alone when there are none: still a valid table
    elif not runs:
        print(f"no runs under {args.runs_dir or 'runs'}")
    else:
        print_table(runs)
    for r in runs:  # what was skipped to list the run at all: damaged records, a config that no longer reads …
        for problem in r.problems:
            print(f"note: {r.name}: {problem}", file=sys.stderr)
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser("runs", help="list runs with their last figures")
    p.add_argument("--runs-dir", help="where run folders are (default: $LABBENCH_RUNS or ./runs)")
    p.add_argument("--csv", action="store_true", help="print CSV (one row per run, figures unrounded) for a spreadsheet or pandas")
    p.set_defaults(func=cmd_runs)
