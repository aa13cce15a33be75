"""``labbench study``: the lecture's claims as studies — list the catalogue, run (or resume) one, show its table."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from labbench.cli.common import split_names
from labbench.cli.progress import ProgressPrinter, format_eta
from labbench.cli.interrupts import StopOnSignal
from labbench.cli.train import distributed_rank_env_nonzero
from labbench.errors import ConfigError


def cmd_list(args: argparse.Namespace) -> int:
    from labbench.studies import load_study, study_names

    for name in study_names():
        study = load_study(name)
        print(f"{name:<22} {study.runs_count():>3} runs × {study.budget.describe():<9} {study.title}")
    print("\nlabbench study run NAME runs one; a study file (.toml) works the same way.")
    return 0


def _settings(items: list[str] | None) -> dict[str, object]:
    """``--set`` items as the study's base settings, values read as ``labbench train --set`` reads them."""
    from labbench.run_config import parse_value

    out = {}
    for item in items or []:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {item!r}: expected section.key=value, e.g. train.device=cuda")
        out[key.strip()] = parse_value(text.strip())
    return out


def _new_or_resumed(args: argparse.Namespace) -> Path:
    """The study folder to run: the one given (resumed), or a new one for a catalogue name or a file."""
    from labbench.studies import Budget, create_study_folder, load_study, plan_study
    from labbench.studies.results import STUDY_NAME

    target = Path(args.study)
    if target.is_dir():
        if not (target / STUDY_NAME).is_file():
            raise ConfigError(f"{target}: no {STUDY_NAME} in this folder — is it a study folder?")
        if args.budget or args.epochs or args.set or args.seeds:
            raise ConfigError(f"{target}: a study folder resumes with the settings it started with; "
                              "start the study anew to change its budget, seeds or settings")
        return target
    study = load_study(args.study)
    plan_study(study, args.study)  # the file's own errors name the file
    budget = Budget(seconds=args.budget) if args.budget else Budget(epochs=args.epochs) if args.epochs else None
    try:
        seeds = [int(s) for s in split_names(args.seeds)] if args.seeds else None
    except ValueError:
        raise ConfigError(f"--seeds: whole numbers separated by commas, e.g. 0,1,2 (got {args.seeds!r})") from None
    study = study.with_changes(budget=budget, settings=_settings(args.set), seeds=seeds)
    return create_study_folder(study, args.studies_dir)


class StudyPrinter:
    """The study's own lines, between the training progress of its runs."""

    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stderr
        self.training = ProgressPrinter(self.stream)

    def __call__(self, event) -> None:
        from labbench.studies.measures import MEASURES

        if event.kind == "study_run":
            how = {"new": "", "resumed": " — resumed from its checkpoint", "evaluated": " — trained, measuring"}[event.how]
            self._line(f"── run {event.index + 1}/{event.total}: {event.label} (seed {event.seed}){how}")
        elif event.kind == "study_result":
            r = event.result
            if r.status != "completed":
                self._line(f"   {r.status}: {r.message}")
            else:
                figures = " · ".join(f"{MEASURES[m].title} {MEASURES[m].format(v)}" for m, v in r.values.items())
                self._line(f"   {figures}  ({r.train_seconds:.0f} s training, {r.eval_seconds:.0f} s measuring)")
        elif event.kind != "study_finished":
            self.training(event)

    def _line(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()


def cmd_run(args: argparse.Namespace) -> int:
    from labbench.engine import Control
    from labbench.engine.device import describe, resolve_device
    from labbench.studies import StudyRunner, estimate_seconds, judge, read_results, runs_to_go, summarize
    from labbench.studies.table import format_text

    folder = _new_or_resumed(args)
    control = Control()
    quiet = distributed_rank_env_nonzero()
    runner = StudyRunner(folder, [] if quiet else [StudyPrinter()], control)
    study, todo = runner.study, runs_to_go(folder, runner.plan)
    if not quiet:
        eta = estimate_seconds(study, todo)
        device = describe(resolve_device(runner.plan[0].config.train.device))
        print(f"{study.title}: {len(todo)} of {len(runner.plan)} runs to go × {study.budget.describe()}"
              + (f" ≈ {format_eta(eta)}" if eta is not None else "") + f" on {device}\nstudy folder: {folder}",
              file=sys.stderr)
    with StopOnSignal(control) as signals:  # Ctrl+C or SIGTERM: the current run stops at a step and saves
        finished = runner.run()
    if quiet:
        return 0
    cells = summarize(study, read_results(folder))
    print(format_text(study, cells, judge(study, cells)))
    if finished.status == "stopped":
        print(f"\nstopped; labbench study run {folder} continues where it left off", file=sys.stderr)
        return 128 + (signals.signum or 2)  # 130 after Ctrl+C, 143 after SIGTERM
    return 1 if finished.failed else 0


def cmd_show(args: argparse.Namespace) -> int:
    from labbench.studies import judge, open_study, read_results, summarize
    from labbench.studies.table import format_markdown, format_text

    study = open_study(args.folder)
    cells = summarize(study, read_results(args.folder))
    print((format_markdown if args.markdown else format_text)(study, cells, judge(study, cells)))
    return 0


def _positive(kind):
    def parse(text: str):
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be greater than 0 (got {text})")
        return value

    return parse


def add_parser(sub) -> None:
    p = sub.add_parser("study", help="the lecture's claims as studies: list, run, show")
    commands = p.add_subparsers(dest="study_command", required=True)
    commands.add_parser("list", help="the studies that ship with labbench").set_defaults(func=cmd_list)

    run = commands.add_parser("run", help="run a study (a catalogue name or a .toml file), or resume a study folder")
    run.add_argument("study", metavar="NAME|FILE|DIR")
    budget = run.add_mutually_exclusive_group()
    budget.add_argument("--budget", type=_positive(float), metavar="SECONDS", help="training time per run (default: the study's)")
    budget.add_argument("--epochs", type=_positive(int), metavar="N", help="epochs per run instead of a time budget")
    run.add_argument("--set", action="append", metavar="KEY=VALUE",
                     help="a config setting for every run, e.g. --set train.device=cuda")
    run.add_argument("--seeds", metavar="0,1,2", help="run every cell once per seed (default: the study's)")
    run.add_argument("--studies-dir",
                     help="where study folders go (default: $LABBENCH_STUDIES, else studies/ beside the runs folder)")
    run.set_defaults(func=cmd_run)

    show = commands.add_parser("show", help="the result table of a study folder")
    show.add_argument("folder", metavar="DIR")
    show.add_argument("--markdown", action="store_true", help="as a Markdown table (for a README)")
    show.set_defaults(func=cmd_show)
