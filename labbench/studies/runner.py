"""Running a study: its runs one after another, each an ordinary run folder, each result appended as it ends.

``studies/<time>-<name>/`` holds ``study.toml`` (the study as run: budget and settings resolved),
``results.jsonl`` and ``runs/<NN>-<cell>-s<seed>/``. Running the folder again resumes it: runs
with a result are skipped, a run with a checkpoint continues from it, a trained run that was not
yet measured is only measured, a failed run is tried again. A run that fails is recorded with its
reason and the study goes on. Under ``torchrun`` every process trains every run together (the
trainer's DistributedDataParallel); rank 0 alone writes and measures, the others wait for it.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import torch

from labbench import distributed
from labbench.atomic import atomic_write_text
from labbench.config import to_dict
from labbench.run_config import RunConfig, config_hash
from labbench.data import load_split
from labbench.engine import Control, Trainer
from labbench.engine.checkpoint import CHECKPOINT_NAME, save_checkpoint
from labbench.engine.device import resolve_device
from labbench.engine.events import FinishedEvent, event_to_record
from labbench.errors import LabbenchError
from labbench.evaluate.baselines import random_init_method
from labbench.methods import METHODS
from labbench.runs import METRICS_NAME, MetricsLog, default_runs_root, init_run_dir, read_metrics, read_run
from labbench.studies.events import StudyFinished, StudyRunEnded, StudyRunStarted
from labbench.studies.measures import measure_run
from labbench.studies.plan import PlannedRun, plan_study
from labbench.studies.results import FINAL, STUDY_NAME, RunResult, append_result, read_results
from labbench.studies.spec import Study, read_study

Callback = Callable[[Any], None]


def default_studies_root(runs_root: str | Path | None = None) -> Path:
    """``$LABBENCH_STUDIES``, else ``studies/`` beside the runs folder (``./studies`` by default)."""
    if "LABBENCH_STUDIES" in os.environ:
        return Path(os.environ["LABBENCH_STUDIES"])
    return Path(runs_root if runs_root is not None else default_runs_root()).parent / "studies"


def join_processes(device_name: str) -> None:
    """Under torchrun: join the process group the trainer will use (a study decides things together
    before its first run trains); nothing in one process."""
    device = resolve_device(device_name)
    distributed.init_from_env(device.type)
    if device.type == "cuda" and distributed.world_size() > 1:
        torch.cuda.set_device(distributed.rank() % torch.cuda.device_count())


def create_study_folder(study: Study, root: str | Path | None = None) -> Path:
    """A fresh ``<root>/<time>-<name>/`` holding ``study.toml``; every torchrun process gets rank 0's."""
    plan = plan_study(study)  # a study that cannot run makes no folder
    join_processes(plan[0].config.train.device)
    path = None
    if distributed.is_main():
        root = Path(root) if root is not None else default_studies_root()
        base = f"{time.strftime('%Y%m%d-%H%M%S')}-{study.name}"
        path, n = root / base, 1
        while path.exists():
            n += 1
            path = root / f"{base}-{n}"
        (path / "runs").mkdir(parents=True)
        atomic_write_text(path / STUDY_NAME, study.to_toml())
    return Path(distributed.broadcast_object(None if path is None else str(path)))


def open_study(folder: str | Path) -> Study:
    """The study a study folder was run with."""
    return read_study(Path(folder) / STUDY_NAME)


def runs_to_go(folder: str | Path | None, plan: list[PlannedRun]) -> list[PlannedRun]:
    """The planned runs without a result in ``folder`` (all of them before there is a folder); a failed
    run is tried again."""
    results = read_results(folder) if folder is not None else {}
    return [p for p in plan if p.key not in results or results[p.key].status not in FINAL]


class StudyRunner:
    """Runs (or resumes) the study in ``folder``; ``callbacks`` get the study's events and every run's
    training events; ``control`` stops the run in progress at a step boundary, and the study with it."""

    def __init__(self, folder: str | Path, callbacks: Iterable[Callback] = (), control: Control | None = None) -> None:
        self.folder = Path(folder)
        self.study = open_study(self.folder)
        self.plan = plan_study(self.study, str(self.folder / STUDY_NAME))
        self.callbacks = list(callbacks)
        self.control = control or Control()

    def _emit(self, event: Any) -> None:
        for callback in self.callbacks:
            callback(event)

    def run(self) -> StudyFinished:
        """Every run without a result, in plan order; returns (and reports) how the study ended."""
        join_processes(self.plan[0].config.train.device)
        todo = distributed.broadcast_object(
            [p.index for p in runs_to_go(self.folder, self.plan)] if distributed.is_main() else None)
        failed, status = [], "completed"
        for planned in (self.plan[i] for i in todo):
            result = None if self.control.stop_requested else self._run_one(planned)
            if result is None:
                status = "stopped"
                break
            if distributed.is_main():
                append_result(self.folder, result)
            if result.status == "failed":
                failed.append(f"{planned.label} (seed {planned.seed}): {result.message}")
            self._emit(StudyRunEnded(planned.index, result))
        finished = StudyFinished(status, str(self.folder), failed)
        self._emit(finished)
        return finished

    # -- one run ---------------------------------------------------------------------------------

    def _run_one(self, planned: PlannedRun) -> RunResult | None:
        """Train (or resume, or only measure) one run; None when it was stopped."""
        run_dir = self.folder / "runs" / planned.folder
        how = distributed.broadcast_object(self._prepare(run_dir, planned) if distributed.is_main() else None)
        self._emit(StudyRunStarted(planned.index, len(self.plan), planned.key, planned.label, planned.seed,
                                   str(run_dir), how))
        result = RunResult(planned.key, planned.label, planned.seed, f"runs/{planned.folder}", "completed")
        started = time.perf_counter()
        try:
            ended = self._train(run_dir, planned, how)
            if ended is not None and ended.status == "stopped":
                return None
            result.train_seconds = time.perf_counter() - started
            result.steps = ended.step if ended is not None else read_run(run_dir).step or 0
            if ended is not None and ended.status != "completed":
                result.status, result.message = ended.status, ended.message
            elif distributed.is_main():
                started = time.perf_counter()
                measured = measure_run(run_dir, self.study.measures, max_train=self.study.evaluation.max_train,
                                       finetune_epochs=self.study.evaluation.finetune_epochs,
                                       seed=planned.seed, device=planned.config.train.device)
                result.values, result.test_images, result.chance, result.reference = (
                    measured.values, measured.test_images, measured.chance, measured.reference)
                result.eval_seconds = time.perf_counter() - started
        except LabbenchError as err:
            result.status, result.message = "failed", str(err)
        except Exception as err:  # noqa: BLE001 — one run's crash is reported with the study's results; the study goes on
            result.status, result.message = "failed", f"{type(err).__name__}: {err}"
        distributed.barrier()  # the other processes wait while rank 0 measures
        return result

    def _prepare(self, run_dir: Path, planned: PlannedRun) -> str:
        """How the run goes on from what its folder holds: ``new``, ``resumed`` or ``evaluated``."""
        if run_dir.exists():
            if read_run(run_dir).status in ("completed", "diverged"):
                return "evaluated"
            if (run_dir / "checkpoints" / CHECKPOINT_NAME).is_file() and not planned.untrained:
                return "resumed"
            shutil.rmtree(run_dir)  # killed before its first checkpoint: nothing worth keeping
        init_run_dir(run_dir, planned.config)
        return "new"

    def _train(self, run_dir: Path, planned: PlannedRun, how: str) -> FinishedEvent | None:
        """The run's end (None when it had ended before: only measure it)."""
        if how == "evaluated":
            return _recorded_end(run_dir)
        if planned.untrained:
            if distributed.is_main():
                save_untrained(run_dir, planned.config)
            return None
        if how == "resumed":
            return Trainer.resume(run_dir, self.callbacks, self.control).fit()
        return Trainer(planned.config, self.callbacks, self.control, run_dir=run_dir).fit()


def _recorded_end(run_dir: Path) -> FinishedEvent | None:
    """The finished record a run folder holds, when training ended in a way that is not measured."""
    for record in reversed(read_metrics(run_dir)):
        if record.get("kind") == "finished" and record.get("status") == "diverged":
            return FinishedEvent("diverged", record.get("step", 0), record.get("epoch", 0), str(run_dir),
                                 record.get("message", ""))
    return None


def save_untrained(run_dir: str | Path, config: RunConfig) -> None:
    """``run_dir`` as a finished run of zero steps: its checkpoint holds the initial weights that
    training at ``train.seed`` would start from (the "random init" row of the lecture's tables)."""
    run_dir = Path(run_dir)
    size = len(load_split(config.data).train) if METHODS[config.method.name].needs_dataset_size else None
    method = random_init_method(config, config.train.seed, size)
    save_checkpoint(run_dir / "checkpoints" / CHECKPOINT_NAME, {
        "format": 1, "method": config.method.name, "backbone": config.backbone.name,
        "config_hash": config_hash(config), "config": to_dict(config), "model": method.state_dict(),
        "step": 0, "epoch": 0,
    })
    MetricsLog(run_dir / METRICS_NAME).append(event_to_record(FinishedEvent(
        "completed", 0, 0, str(run_dir), "untrained: the initial weights, scored without training")))
