"""The training loop: get batch -> views on the device -> forward under autocast -> backward -> step -> after-step.

``Trainer(config, callbacks, control).fit()`` blocks until the run ends and reports everything as
plain event dataclasses (``labbench.engine.events``). Checkpoints are atomic and hold every random
state, so a stopped run resumes exactly where it left off. A time budget (``train.time_budget_s``,
training seconds: pauses, monitors and saving are not counted) fits every schedule to the steps that
fit: the loop measures its own speed over the first steps and plans the rest of the run from it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

import torch

from labbench import distributed
from labbench.atomic import atomic_write_text
from labbench.config import to_dict
from labbench.data import ImageSet, load_split
from labbench.engine.batches import BatchSource, batch_source
from labbench.engine.checkpoint import CHECKPOINT_NAME, load_checkpoint, save_checkpoint
from labbench.engine.clock import Throughput, TrainingClock
from labbench.engine.control import Control
from labbench.engine.device import default_threads, describe, resolve_device, use_bf16
from labbench.engine.events import (
    CheckpointEvent,
    EpochEvent,
    Event,
    FinishedEvent,
    LogEvent,
    ProbeEvent,
    ReferenceEvent,
    StepEvent,
    event_to_record,
)
from labbench.engine.footprint import check_step_fits, check_store_fits
from labbench.engine.monitors import MonitorSets, reference_knn, run_monitors
from labbench.engine.optim import build_optimizer
from labbench.engine.plan import Plan
from labbench.engine.resume import (
    Position,
    check_resume_changes,
    data_signature,
    resume_position,
    schedule_offset,
    shift_schedule,
)
from labbench.engine.tensorboard import TENSORBOARD_DIR, ProjectorSample, TensorBoardWriter
from labbench.errors import CheckpointError, ConfigError, LabbenchError, StorageError, TrainingDiverged
from labbench.evaluate.probes import ProbeSet, record_probes
from labbench.methods import Method, build_method
from labbench.run_config import RunConfig, config_hash, dump_toml
from labbench.runlock import RunLock
from labbench.runs import (
    CONFIG_NAME,
    METRICS_NAME,
    RESUMED,
    MetricsLog,
    check_run_folder,
    create_run_dir,
    discard_run_leftovers,
    load_run_config,
)
from labbench.torch_private import drop_compiled_forward

Callback = Callable[[Event], None]

#: steps timed (after the first, which warms up) before a time budget plans the rest of the run
CALIBRATION_STEPS = 10


class _Stop(Exception):
    """Raised inside the loop when the user asked to stop (handled in ``fit``)."""


class Trainer:
    """Trains ``config``'s method; ``callbacks`` receive every event; ``control`` pauses/stops it.

    ``run_dir``: None creates a new folder under ``runs_root``; an existing folder with a checkpoint
    is resumed (see :meth:`resume`).
    """

    def __init__(
        self,
        config: RunConfig,
        callbacks: Iterable[Callback] = (),
        control: Control | None = None,
        run_dir: str | Path | None = None,
        runs_root: str | Path | None = None,
    ) -> None:
        self.config = config
        self.callbacks = list(callbacks)
        self.control = control or Control()
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.runs_root = runs_root
        # -- where the run stands (saved in every checkpoint) --
        self.step = 0
        self.epoch = 0
        self.batch_in_epoch = 0
        self.plan: Plan | None = None
        self.budget_fitted = False  # a time budget has planned the run from the measured speed
        self.reference: ReferenceEvent | None = None
        #: the last epoch's probe arrays (attention, reconstructions, collapse signals), for a running run's viewers
        self.latest_probe: ProbeEvent | None = None
        # -- what _setup builds --
        self.device = torch.device("cpu")
        self.world, self.rank = 1, 0
        self.bf16 = False
        self.train_set: ImageSet | None = None
        self.eval_set: ImageSet | None = None
        self.batches: BatchSource | None = None  # where each step's images come from: the uint8 store or a stream
        self.labels: torch.Tensor | None = None  # their classes, for a method that trains on them (needs_labels)
        self.method: Method | None = None
        self.model: torch.nn.Module | None = None  # the method, or its DistributedDataParallel wrapper
        self.optimizer: torch.optim.Optimizer | None = None
        self.augment_gen: torch.Generator | None = None
        self.monitor_sets: MonitorSets | None = None
        self.probes: ProbeSet | None = None
        self.clock = TrainingClock()  # restarted when the loop starts, at the training time a resumed run had spent
        self._trained_before = 0.0
        self.data_signature = ""  # which training images, in which order (saved: a resume checks it)
        # -- the run folder: held, and written, only by the main process --
        self._lock: RunLock | None = None
        self._metrics: MetricsLog | None = None
        self._recording = False  # this session writes the run's history (a failed resume does not)
        self._saved: Position | None = None  # where the last checkpoint on disk stands
        # -- the loop's running sums, read back from the device every log_every_steps steps --
        self._loss_sum = torch.zeros(())
        self._bad_step = torch.full((), -1, dtype=torch.long)  # the first step whose loss was not finite
        self._window: Throughput | None = None  # steps since the last StepEvent
        self._epoch_rate: Throughput | None = None  # steps since the epoch (or the monitors) began
        self._calibration: tuple[int, float] | None = None  # (step, seconds) where the budget's timing began
        self._first_report_due = True  # the first step is reported at once: the plots get a point right after Start

    @classmethod
    def resume(cls, run_dir: str | Path, callbacks: Iterable[Callback] = (), control: Control | None = None) -> Trainer:
        """Continue the run in ``run_dir`` from its last checkpoint, with its own config."""
        return cls(load_run_config(run_dir), callbacks, control, run_dir=run_dir)

    @property
    def steps_per_epoch(self) -> int:
        return self.plan.steps_per_epoch

    @property
    def total_steps(self) -> int:
        return self.plan.total_steps

    # -- events -------------------------------------------------------------------------------

    def _emit(self, event: Event) -> None:
        failed = None
        if self._metrics is not None and self._recording and event.kind != "log":
            try:
                self._metrics.append(event_to_record(event))
            except StorageError as err:  # the callbacks still hear of it; the run then ends with the error
                failed = err
        for callback in self.callbacks:
            callback(event)
        if failed is not None:
            raise failed

    def _log(self, message: str, level: str = "info") -> None:
        self._emit(LogEvent(message, level))

    # -- set-up -------------------------------------------------------------------------------

    def _setup(self) -> None:
        cfg = self.config
        torch.set_num_threads(cfg.train.num_threads or default_threads(distributed.local_world_size()))
        self._join_processes()
        if distributed.is_main():
            self._open_run_folder()
        self._log(f"device: {describe(self.device)}" + (", bf16 autocast" if self.bf16 else ", fp32")
                  + (f", {self.world} processes" if self.world > 1 else ""))
        check_store_fits(cfg.data)  # before decoding: refused with the numbers instead of dying
        self._load_data()
        self.data_signature = data_signature(self.train_set, cfg.data.root)
        self._build_model()
        check_step_fits(self.method, cfg, self.device, cfg.train.batch_size // self.world)
        self.augment_gen = torch.Generator(device=self.device).manual_seed(cfg.train.seed + 1 + self.rank)
        self.monitor_sets = MonitorSets.choose(self.train_set, self.eval_set, cfg.eval, cfg.train.seed)
        self.probes = ProbeSet.choose(self.eval_set, cfg.eval.probe_images, cfg.train.seed)
        if self.run_dir is not None and (self.run_dir / "checkpoints" / CHECKPOINT_NAME).is_file():
            self._restore(self.run_dir / "checkpoints" / CHECKPOINT_NAME)
        else:
            self._start_recording(Position(0, 0, 0))
        if cfg.train.tensorboard and distributed.is_main() and self.run_dir is not None:
            projector = ProjectorSample.choose(self.method, self.eval_set, cfg.data.image_size, self.device, cfg.train.seed)
            self.callbacks.append(
                TensorBoardWriter(self.run_dir / TENSORBOARD_DIR, purge_step=self.step, projector=projector))

    def _open_run_folder(self) -> None:
        """Make or take the run folder: its lock first (nothing is written or removed without it), then
        the checks that its files are its own, the clean-up a killed run left, and the metrics log."""
        if self.run_dir is None:
            self.run_dir = create_run_dir(self.config, self.runs_root)
        self._lock = RunLock(self.run_dir, "training").acquire()
        if self._lock.took_over is not None:
            self._log(f"{self.run_dir}: the last {self._lock.took_over.describe()} ended without "
                      "releasing the folder (killed or crashed); continuing from what it saved", "warning")
        check_run_folder(self.run_dir)
        removed = discard_run_leftovers(self.run_dir)
        if removed:
            self._log(f"removed what a killed run left half-written ({', '.join(p.name for p in removed)}); "
                      "the last whole files are kept")
        self._metrics = MetricsLog(self.run_dir / METRICS_NAME)
        repaired = self._metrics.open()
        if repaired:
            self._log(repaired, "warning")

    def _start_recording(self, position: Position) -> None:
        """From here on this session writes the run's history. Records an earlier session wrote past
        ``position`` (work lost with a kill, about to be done again) are superseded by a marker."""
        self._recording = True
        if self._metrics is not None and not self._metrics.is_empty():
            self._metrics.append({"kind": RESUMED, "step": position.step, "epoch": position.epoch,
                                  "time": time.strftime("%Y-%m-%d %H:%M:%S")})

    def _join_processes(self) -> None:
        """The device, and under torchrun the process group (one GPU per process)."""
        self.device = resolve_device(self.config.train.device)
        distributed.init_from_env(self.device.type)
        if self.device.type == "cuda" and distributed.world_size() > 1:
            self.device = torch.device("cuda", distributed.rank() % torch.cuda.device_count())
            torch.cuda.set_device(self.device)
        self.world, self.rank = distributed.world_size(), distributed.rank()
        self.bf16 = use_bf16(self.config.train.precision, self.device)

    def _load_data(self) -> None:
        cfg = self.config
        split = load_split(cfg.data)
        for path, reason in split.train.skipped + split.eval.skipped:
            self._log(f"skipped {path}: {reason}", "warning")
        self.train_set, self.eval_set = split.train, split.eval
        batch = cfg.train.batch_size
        if batch % self.world:
            raise ConfigError(f"train.batch_size: {batch} does not divide among {self.world} processes")
        self.batches = batch_source(self.train_set, cfg, self.device, self.world, self.rank)
        steps_per_epoch = self.batches.steps_per_epoch
        if steps_per_epoch == 0:
            raise ConfigError(
                f"train.batch_size: {batch} is larger than the training split ({len(self.train_set)} images); "
                "lower the batch size or use more images"
            )
        self.plan = Plan.make(cfg, steps_per_epoch)
        self._log(f"data: {cfg.data.source}, {len(self.train_set)} train / {len(self.eval_set)} eval images "
                  f"at {cfg.data.image_size} px; {steps_per_epoch} steps per epoch")

    def _build_model(self) -> None:
        cfg = self.config
        torch.manual_seed(cfg.train.seed)
        method = build_method(cfg, dataset_size=len(self.train_set)).to(self.device)
        self.labels = self._training_labels(method)
        if cfg.train.channels_last:  # also on CPU: up to 2× faster convolutions there
            method = method.to(memory_format=torch.channels_last)
        self.method = self.model = method
        self.batches.prepare(method)
        self._log(self.batches.describe())
        if self.world > 1:
            if cfg.train.sync_batchnorm and self.device.type != "cuda":
                self._log("train.sync_batchnorm: torch's SyncBatchNorm runs on GPUs only; on the CPU each "
                          "process keeps its own batch statistics", "warning")
            elif cfg.train.sync_batchnorm:
                method = torch.nn.SyncBatchNorm.convert_sync_batchnorm(method)
                self.method = method
            self.model = torch.nn.parallel.DistributedDataParallel(
                method, device_ids=[self.device.index] if self.device.type == "cuda" else None,
                find_unused_parameters=method.has_unused_parameters,
            )
        self.optimizer = build_optimizer(method.param_groups(cfg.optim.weight_decay), cfg.optim,
                                         cfg.train.batch_size, fused=self.device.type == "cuda")
        if cfg.train.compile:
            method.encoder.compile()

    def _training_labels(self, method) -> torch.Tensor | None:
        """The training split's labels for a method that trains on them (None for every other)."""
        if not method.needs_labels:
            return None
        if self.train_set.labels is None:
            raise ConfigError(f"method.name: {self.config.method.name} trains on labels, and "
                              f"{self.config.data.source} has none; pick a labelled source")
        return self.train_set.labels.to(self.device)

    # -- checkpoints --------------------------------------------------------------------------

    def _state(self) -> dict:
        return {
            "format": 1,
            "method": self.config.method.name,
            "backbone": self.config.backbone.name,
            "config_hash": config_hash(self.config),
            "config": to_dict(self.config),
            "model": self.method.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "step": self.step,
            "epoch": self.epoch,
            "batch_in_epoch": self.batch_in_epoch,
            # what the position is counted over: a resume with other data or batch must realign
            "batch_size": self.config.train.batch_size,
            "steps_per_epoch": self.plan.steps_per_epoch,
            "train_images": len(self.train_set),
            "data_signature": self.data_signature,
            "planned_steps": self.plan.total_steps,
            "budget_fitted": self.budget_fitted,
            "trained_seconds": self.clock.seconds(),
            "reference": None if self.reference is None else [self.reference.raw_pixels_knn, self.reference.untrained_knn],
            "augment_rng": self.augment_gen.get_state(),
            "torch_rng": torch.get_rng_state(),
        }

    def _save(self) -> None:
        if not distributed.is_main() or self.run_dir is None:
            return
        # a second Ctrl+C during the write waits for the file instead of abandoning it
        with self.clock.excluded(), self.control.saving():
            path = save_checkpoint(self.run_dir / "checkpoints" / CHECKPOINT_NAME, self._state())
        self._saved = self._position()
        self._emit(CheckpointEvent(str(path), self.step, self.epoch))

    def _restore(self, path: Path) -> None:
        state = load_checkpoint(path)
        for key in ("method", "backbone"):
            want = getattr(self.config, key).name
            if state.get(key) != want:
                raise CheckpointError(f"{path}: a checkpoint of {key} {state.get(key)!r}, but this run uses {want!r}")
        changes = check_resume_changes(state["config"], to_dict(self.config), self.run_dir) if "config" in state else []
        try:
            self.method.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
        except (KeyError, RuntimeError, ValueError) as err:
            raise CheckpointError(f"{path}: does not fit this run's model ({str(err).splitlines()[0]})") from None
        position, notes = resume_position(state, self.config.train.batch_size, self.plan.steps_per_epoch,
                                          self.data_signature, len(self.train_set))
        self.step, self.epoch, self.batch_in_epoch = position.step, position.epoch, position.batch_in_epoch
        self._saved = Position(int(state["step"]), int(state["epoch"]), int(state["batch_in_epoch"]))
        if "trained_seconds" in state:
            self._trained_before = float(state["trained_seconds"])
        offset = schedule_offset(position, self.plan.steps_per_epoch)
        replan = notes or any(c.key in ("train.epochs", "train.max_steps", "train.time_budget_s") for c in changes)
        if "planned_steps" in state and not replan:
            # the schedules the run was following (a budget may have fitted them), saved shifted by the offset
            self.plan = Plan.make(self.config, self.plan.steps_per_epoch, state["planned_steps"] - offset)
            self.budget_fitted = bool(state["budget_fitted"])
        self._continue_schedules(offset)
        if state.get("reference") is not None:
            self.reference = ReferenceEvent(*state["reference"])
        self.augment_gen.set_state(state["augment_rng"])
        torch.set_rng_state(state["torch_rng"])
        if changes and distributed.is_main():
            atomic_write_text(self.run_dir / CONFIG_NAME, dump_toml(self.config))
            self._log("resuming with " + ", ".join(map(str, changes)))
        for note in notes:
            self._log(note, "warning")
        self._start_recording(position)
        self._log(f"resumed from {path} at step {self.step} (epoch {self.epoch + 1})")

    def _continue_schedules(self, offset: int) -> None:
        """After an epoch changed length the step count runs ``offset`` steps ahead of the epochs done:
        shift the plan so that every schedule continues from the epoch reached, not the step count."""
        if offset:
            plan = self.plan
            self.plan = replace(plan, total_steps=plan.total_steps + offset, lr=shift_schedule(plan.lr, offset),
                                weight_decay=None if plan.weight_decay is None else shift_schedule(plan.weight_decay, offset))

    # -- the loop -----------------------------------------------------------------------------

    def _train_step(self, images: torch.Tensor, idx: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        plan, step = self.plan, self.step
        for group in self.optimizer.param_groups:
            group["lr"] = float(plan.lr[step])  # a numpy scalar would not load with weights_only
            if plan.weight_decay is not None and group["weight_decay"] > 0:
                group["weight_decay"] = float(plan.weight_decay[step])
        self.method.before_step(plan.schedule_epoch(step))
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
            # a method with per-image state (a memory bank) is told which images it sees; the supervised baseline their classes
            extra = {"indices": idx.to(self.device, non_blocking=True)} if self.method.needs_indices else {}
            if self.labels is not None:
                extra["labels"] = self.labels[idx.to(self.labels.device)].to(self.device, non_blocking=True)
            loss, metrics = self.model(images, self.augment_gen, **extra)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.method.before_optimizer_step(plan.schedule_epoch(step))
        if self.config.optim.clip_grad:
            torch.nn.utils.clip_grad_norm_(self.method.parameters(), self.config.optim.clip_grad)
        self.optimizer.step()
        self.method.after_step(step, plan.total_steps)
        return loss, metrics

    def _first_step(self, images: torch.Tensor, idx: torch.Tensor):
        """torch.compile can fail on exotic set-ups: fall back to eager instead of failing the run."""
        try:
            return self._train_step(images, idx)
        except Exception as err:  # noqa: BLE001 — any compiler failure
            if not self.config.train.compile:
                raise
            drop_compiled_forward(self.method)
            self._log(f"torch.compile failed ({type(err).__name__}); continuing without it", "warning")
            return self._train_step(images, idx)

    def _loop(self) -> str:
        """Epochs of steps until the plan is done; monitors and a checkpoint at the epoch ends."""
        self.clock = TrainingClock(already=self._trained_before)
        self._loss_sum = torch.zeros((), device=self.device)
        self._bad_step = torch.full((), -1, device=self.device, dtype=torch.long)
        self._window, self._epoch_rate = Throughput(self.clock), Throughput(self.clock)
        step_fn = self._first_step
        while self.epoch < self.config.train.epochs and self.step < self.plan.total_steps:
            batches = self.batches.epoch(self.epoch, self.batch_in_epoch)
            while self.batch_in_epoch < self.plan.steps_per_epoch and self.step < self.plan.total_steps:
                self._obey_control()
                images, idx = next(batches)
                loss, metrics = step_fn(images, idx)
                step_fn = self._train_step
                self._count(loss.detach())
                self._fit_to_budget()
                if self._should_report():
                    self._report_step(metrics)
            self._end_epoch()
        return "completed"

    def _obey_control(self) -> None:
        if self.control.is_paused:
            self._log(f"paused at step {self.step}")
            with self.clock.excluded():
                self.control.wait_if_paused()
        if self.control.stop_requested:
            raise _Stop

    def _count(self, loss: torch.Tensor) -> None:
        """Book one finished step (no host sync: sums stay on the device)."""
        self._loss_sum += loss
        self._bad_step = torch.where(torch.isfinite(loss) | (self._bad_step >= 0), self._bad_step, self.step)
        self.step += 1
        self.batch_in_epoch += 1
        self._window.add()
        self._epoch_rate.add()
        if self._calibration is None:  # the first step warms up; the budget's timing starts after it
            self._calibration = (self.step, self.clock.seconds())

    def _fit_to_budget(self) -> None:
        """With a time budget: after CALIBRATION_STEPS timed steps, plan the run to the steps that fit
        (every schedule follows); stop when the budget is spent."""
        budget = self.config.train.time_budget_s
        if not budget:
            return
        start_step, start_seconds = self._calibration
        if not self.budget_fitted and self.step - start_step >= CALIBRATION_STEPS:
            seconds_per_step = (self.clock.seconds() - start_seconds) / (self.step - start_step)
            fit = self.step + int(max(budget - self.clock.seconds(), 0.0) / seconds_per_step)
            fit = -int(distributed.all_reduce_max(torch.tensor(-fit, device=self.device)))  # every process agrees
            self.budget_fitted = True
            if fit < self.plan.total_steps:
                self.plan = Plan.make(self.config, self.plan.steps_per_epoch, max(fit, self.step + 1))
                self._log(f"time budget of {budget:g} s: {self.plan.total_steps} steps fit "
                          f"({seconds_per_step * 1000:.0f} ms each); every schedule is fitted to them")
        over = self.clock.seconds() > budget
        if self.world > 1:  # all processes must stop at one step: they agree every log_every steps (a collective)
            over = self.step % self.config.train.log_every_steps == 0 and distributed.any_rank(over, self.device)
        if over:  # before the step report, so that the last step is always reported
            self._log(f"time budget of {budget:g} s reached at step {self.step}")
            self.plan = self.plan.stopped_at(self.step)

    def _should_report(self) -> bool:
        """The first step at once, then every log_every_steps and at the epoch's (or the run's) end."""
        at_epoch_end = self.batch_in_epoch == self.plan.steps_per_epoch or self.step == self.plan.total_steps
        return self._first_report_due or self.step % self.config.train.log_every_steps == 0 or at_epoch_end

    def _report_step(self, metrics: dict[str, torch.Tensor]) -> None:
        self._check_finite()
        self._first_report_due = False
        steps = self._window.steps
        self._emit(StepEvent(
            step=self.step, epoch=self.epoch, total_steps=self.plan.total_steps,
            # the mean over every process's images, like the one-process loss
            loss=float(distributed.all_reduce_mean(self._loss_sum)) / max(steps, 1),
            lr=float(self.plan.lr[self.step - 1]),
            momentum=self.method.current_momentum(),
            images_per_sec=self._window.take() * self.config.train.batch_size,
            metrics={k: float(v) for k, v in metrics.items()},
        ))
        self._loss_sum.zero_()

    def _check_finite(self) -> None:
        bad = int(distributed.all_reduce_max(self._bad_step))  # every process stops, not only the one that saw it
        if bad >= 0:
            raise TrainingDiverged(bad, float(self._loss_sum))

    def _end_epoch(self) -> None:
        """After the last step of an epoch (or of the run): monitors and a checkpoint, as configured."""
        finished_epoch = self.batch_in_epoch == self.plan.steps_per_epoch
        images_per_sec = self._epoch_rate.per_second() * self.config.train.batch_size
        if finished_epoch:
            self.epoch += 1
            self.batch_in_epoch = 0
        last = self.epoch >= self.config.train.epochs or self.step >= self.plan.total_steps
        if (finished_epoch and self.epoch % self.config.eval.every_epochs == 0) or last:
            with self.clock.excluded():
                self._run_monitors(images_per_sec)
        if (finished_epoch and self.epoch % self.config.train.checkpoint_every_epochs == 0) or last:
            self._save()
        self._epoch_rate = Throughput(self.clock)
        self._window = Throughput(self.clock)

    def _run_monitors(self, images_per_sec: float) -> None:
        cfg = self.config
        if self.reference is None:  # once per run, before its first k-NN point: the lines that point must clear
            raw, untrained = reference_knn(cfg, self.monitor_sets, len(self.train_set), self.device)
            self.reference = ReferenceEvent(raw, untrained)
            self._emit(self.reference)
        found = run_monitors(self.method, self.monitor_sets, cfg.eval, cfg.data.image_size, self.device, self.bf16)
        self._emit(EpochEvent(
            epoch=self.epoch, step=self.step, knn_accuracy=found.pop("knn_accuracy"),
            feature_std=found.pop("feature_std"), effective_rank=found.pop("effective_rank"),
            images_per_sec=images_per_sec, metrics=found,
        ))
        if distributed.is_main() and self.run_dir is not None and cfg.eval.probe_images:
            path, collapse = record_probes(self.method, self.probes, self.run_dir, self.epoch,
                                           cfg.data.image_size, self.device)
            self.latest_probe = ProbeEvent(self.epoch, self.step, str(path), collapse)
            self._emit(self.latest_probe)

    def fit(self) -> FinishedEvent:
        """Train until done, stopped, diverged or failed; return how it ended (also sent as an event).

        A failure before a resumed run starts training (its folder in use, a refused change, a damaged
        checkpoint) is reported but not recorded in the folder: the run keeps the status it had.
        """
        reason = ""
        try:
            try:
                self._setup()
                self._log(f"training {self.config.method.name} on {self.config.backbone.name} "
                          f"for {self.plan.total_steps} steps")
                status = self._loop()
                if self._saved is not None and self._saved != self._position():
                    self._end_after_realignment()
                message = f"finished {self.step} steps"
            except _Stop:
                self._save()
                status, message = "stopped", f"stopped at step {self.step}; resume continues from here"
        except TrainingDiverged as err:
            status, message = "diverged", str(err)
        except torch.OutOfMemoryError:
            status, reason = "failed", "out of memory"
            message = (f"out of memory at batch size {self.config.train.batch_size} on {self.device}; "
                       "lower train.batch_size or the image size." + self._resume_hint())
        except KeyboardInterrupt:  # a second Ctrl+C while no checkpoint was being written
            status = "stopped"
            message = f"aborted at step {self.step} without saving." + self._resume_hint()
        except LabbenchError as err:
            status, reason = "failed", getattr(err, "reason", "")
            message = str(err) + (self._resume_hint() if isinstance(err, StorageError) else "")
        if status != "completed":
            self._log(message, "warning" if status == "stopped" else "error")
        finished = FinishedEvent(status, self.step, self.epoch, str(self.run_dir) if self.run_dir else None,
                                 message, reason)
        try:
            self._emit(finished)
        except StorageError:
            pass  # the folder cannot take the record (disk full): the lock file keeps the outcome below
        finally:
            self._close_run_folder(f"{status}: {reason}" if reason else status)
        return finished

    def _close_run_folder(self, outcome: str) -> None:
        if self._metrics is not None:
            self._metrics.close()
        if self._lock is not None:
            self._lock.release(outcome if self._recording else "")

    def _end_after_realignment(self) -> None:
        """A resume realigned past the last epoch (the rest of it skipped): the run ends here, measured
        and saved as every run's end is, so that its checkpoint says where it ended."""
        with self.clock.excluded():
            self._run_monitors(images_per_sec=0.0)
        self._save()

    def _position(self) -> Position:
        return Position(self.step, self.epoch, self.batch_in_epoch)

    def _resume_hint(self) -> str:
        if self._saved is None or self.run_dir is None:
            return ""
        return (f" The last checkpoint (step {self._saved.step}) is kept: "
                f"labbench train --resume {self.run_dir} continues from it.")
