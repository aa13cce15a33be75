"""The training loop: get batch -> views on the device -> forward under autocast -> backward -> step -> after-step.

``Trainer(config, callbacks, control).fit()`` blocks until the run ends and reports everything as
plain event dataclasses (``labbench.engine.events``). Checkpoints are atomic and hold every random
state, so a stopped run resumes exactly where it left off.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path

import torch

from labbench import distributed
from labbench.atomic import atomic_write_text
from labbench.config import RunConfig, config_hash, dump_toml, to_dict
from labbench.data import load_split
from labbench.engine.checkpoint import CHECKPOINT_NAME, load_checkpoint, save_checkpoint
from labbench.engine.control import Control
from labbench.engine.device import default_threads, describe, resolve_device, use_bf16
from labbench.engine.events import (
    CheckpointEvent,
    EpochEvent,
    Event,
    FinishedEvent,
    LogEvent,
    ProbeEvent,
    StepEvent,
    event_to_record,
)
from labbench.engine.footprint import check_step_fits, check_store_fits
from labbench.engine.monitors import MonitorSets, run_monitors
from labbench.engine.optim import build_optimizer, scaled_lr
from labbench.engine.resume import (
    Position,
    check_resume_changes,
    data_signature,
    resume_position,
    schedule_offset,
    shift_schedule,
)
from labbench.engine.schedules import cosine_schedule
from labbench.errors import CheckpointError, ConfigError, LabbenchError, StorageError, TrainingDiverged
from labbench.evaluate.probes import ProbeSet, record_probes
from labbench.methods import build_method
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

Callback = Callable[[Event], None]


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
        self.method = None
        self.step = 0
        self.epoch = 0
        #: the last epoch's probe arrays (attention, reconstructions, collapse signals), for a running run's viewers
        self.latest_probe: ProbeEvent | None = None

    @classmethod
    def resume(cls, run_dir: str | Path, callbacks: Iterable[Callback] = (), control: Control | None = None) -> Trainer:
        """Continue the run in ``run_dir`` from its last checkpoint, with its own config."""
        return cls(load_run_config(run_dir), callbacks, control, run_dir=run_dir)

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
        self.device = resolve_device(cfg.train.device)
        distributed.init_from_env(self.device.type)
        if self.device.type == "cuda" and distributed.world_size() > 1:
            self.device = torch.device("cuda", distributed.rank() % torch.cuda.device_count())
            torch.cuda.set_device(self.device)
        self.world, self.rank = distributed.world_size(), distributed.rank()
        self.bf16 = use_bf16(cfg.train.precision, self.device)

        if distributed.is_main():
            self._open_run_folder()
        self._log(f"device: {describe(self.device)}" + (", bf16 autocast" if self.bf16 else ", fp32")
                  + (f", {self.world} processes" if self.world > 1 else ""))

        check_store_fits(cfg.data)  # before decoding: refused with the numbers instead of dying
        split = load_split(cfg.data)
        for path, reason in split.train.skipped + split.eval.skipped:
            self._log(f"skipped {path}: {reason}", "warning")
        self.train_set, self.eval_set = split.train, split.eval
        batch = cfg.train.batch_size
        if batch % self.world:
            raise ConfigError(f"train.batch_size: {batch} does not divide among {self.world} processes")
        self.steps_per_epoch = len(self.train_set) // batch
        if self.steps_per_epoch == 0:
            raise ConfigError(
                f"train.batch_size: {batch} is larger than the training split ({len(self.train_set)} images); "
                "lower the batch size or use more images"
            )
        self.total_steps = self.steps_per_epoch * cfg.train.epochs
        if cfg.train.max_steps:
            self.total_steps = min(self.total_steps, cfg.train.max_steps)
        self._log(f"data: {cfg.data.source}, {len(self.train_set)} train / {len(self.eval_set)} eval images "
                  f"at {cfg.data.image_size} px; {self.steps_per_epoch} steps per epoch")

        # Small sets live on the device once, as uint8: batches are then gathered there, no copies.
        self.images = self.train_set.images
        if self.device.type == "cuda" and self.images.numel() < 0.25 * torch.cuda.mem_get_info(self.device)[0]:
            self.images = self.images.to(self.device)

        torch.manual_seed(cfg.train.seed)
        method = build_method(cfg, dataset_size=len(self.train_set)).to(self.device)
        if cfg.train.channels_last:  # also on CPU: up to 2× faster convolutions there
            method = method.to(memory_format=torch.channels_last)
        check_step_fits(method, cfg, self.device, batch // self.world)
        self.method = method
        self.model = method
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
        self.optimizer = build_optimizer(
            method.param_groups(cfg.optim.weight_decay), cfg.optim, batch, fused=self.device.type == "cuda"
        )
        peak = scaled_lr(cfg.optim, batch)
        warmup = int(round(cfg.optim.warmup_epochs * self.steps_per_epoch))
        self.lr_schedule = cosine_schedule(peak, peak * cfg.optim.min_lr_ratio, self.total_steps, warmup)
        wd_end = cfg.optim.weight_decay_end
        self.wd_schedule = None if wd_end is None else cosine_schedule(cfg.optim.weight_decay, wd_end, self.total_steps)
        if cfg.train.compile:
            method.encoder.compile()

        self.augment_gen = torch.Generator(device=self.device).manual_seed(cfg.train.seed + 1 + self.rank)
        self.monitor_sets = MonitorSets.choose(self.train_set, self.eval_set, cfg.eval, cfg.train.seed)
        self.probes = ProbeSet.choose(self.eval_set, cfg.eval.probe_images, cfg.train.seed)
        self.batch_in_epoch = 0
        self.data_signature = data_signature(self.train_set, cfg.data.root)
        if self.run_dir is not None and (self.run_dir / "checkpoints" / CHECKPOINT_NAME).is_file():
            self._restore(self.run_dir / "checkpoints" / CHECKPOINT_NAME)
        else:
            self._start_recording(Position(0, 0, 0))

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
            "steps_per_epoch": self.steps_per_epoch,
            "train_images": len(self.train_set),
            "data_signature": self.data_signature,
            "augment_rng": self.augment_gen.get_state(),
            "torch_rng": torch.get_rng_state(),
        }

    def _save(self) -> None:
        if not distributed.is_main() or self.run_dir is None:
            return
        with self.control.saving():  # a second Ctrl+C now waits for the file instead of abandoning it
            path = save_checkpoint(self.run_dir / "checkpoints" / CHECKPOINT_NAME, self._state())
        self._saved_step = self.step
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
        position, notes = resume_position(state, self.config.train.batch_size, self.steps_per_epoch,
                                          self.data_signature, len(self.train_set))
        self.step, self.epoch, self.batch_in_epoch = position.step, position.epoch, position.batch_in_epoch
        self._saved_step = int(state["step"])
        offset = schedule_offset(position, self.steps_per_epoch)
        if offset:  # the schedules continue from the epoch reached, not from the step count
            self.lr_schedule = shift_schedule(self.lr_schedule, offset)
            if self.wd_schedule is not None:
                self.wd_schedule = shift_schedule(self.wd_schedule, offset)
            self.total_steps = min(self.total_steps + offset, self.config.train.max_steps or self.total_steps + offset)
        self.augment_gen.set_state(state["augment_rng"])
        torch.set_rng_state(state["torch_rng"])
        if changes and distributed.is_main():
            atomic_write_text(self.run_dir / CONFIG_NAME, dump_toml(self.config))
            self._log("resuming with " + ", ".join(map(str, changes)))
        for note in notes:
            self._log(note, "warning")
        self._start_recording(position)
        self._log(f"resumed from {path} at step {self.step} (epoch {self.epoch + 1})")

    # -- the loop -----------------------------------------------------------------------------

    def _epoch_order(self, epoch: int) -> torch.Tensor:
        """This process's indices into the training split, one row per step (steps × batch/world).

        Every process draws the same permutation and keeps every world-th image of each batch (as
        DistributedSampler), so the processes together see exactly the one-process batches. On CUDA
        the rows are pinned: copying one to the GPU then never stalls the host (no sync per step).
        """
        g = torch.Generator().manual_seed(self.config.train.seed * 1_000_003 + epoch)
        b = self.config.train.batch_size
        perm = torch.randperm(len(self.train_set), generator=g)[: self.steps_per_epoch * b]
        order = perm.view(self.steps_per_epoch, b)[:, self.rank :: self.world].contiguous()
        return order.pin_memory() if self.device.type == "cuda" else order

    def _batch(self, idx: torch.Tensor) -> torch.Tensor:
        if self.images.device != self.device:
            batch = self.images[idx]
            if self.device.type == "cuda":
                batch = batch.pin_memory()
            return batch.to(self.device, non_blocking=True)
        return self.images[idx.to(self.device, non_blocking=True)]

    def _train_step(self, images: torch.Tensor, idx: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        for group in self.optimizer.param_groups:
            group["lr"] = float(self.lr_schedule[self.step])  # a numpy scalar would not load with weights_only
            if self.wd_schedule is not None and group["weight_decay"] > 0:
                group["weight_decay"] = float(self.wd_schedule[self.step])
        self.method.before_step(self.step / self.steps_per_epoch)
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
            # a method with per-image state (a memory bank) is told which images it sees
            extra = {"indices": idx.to(self.device, non_blocking=True)} if self.method.needs_indices else {}
            loss, metrics = self.model(images, self.augment_gen, **extra)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.method.before_optimizer_step(self.epoch)
        if self.config.optim.clip_grad:
            torch.nn.utils.clip_grad_norm_(self.method.parameters(), self.config.optim.clip_grad)
        self.optimizer.step()
        self.method.after_step(self.step, self.total_steps)
        return loss, metrics

    def _first_step_with_fallback(self, images: torch.Tensor, idx: torch.Tensor):
        """torch.compile can fail on exotic set-ups: fall back to eager instead of failing the run."""
        try:
            return self._train_step(images, idx)
        except Exception as err:  # noqa: BLE001 — any compiler failure
            if not self.config.train.compile:
                raise
            for module in self.method.modules():
                module._compiled_call_impl = None
            self._log(f"torch.compile failed ({type(err).__name__}); continuing without it", "warning")
            return self._train_step(images, idx)

    def _loop(self) -> str:
        cfg = self.config.train
        log_every = cfg.log_every_steps
        started = time.perf_counter()
        loss_sum = torch.zeros((), device=self.device)
        bad_step = torch.full((), -1, device=self.device, dtype=torch.long)
        window_steps, window_start = 0, time.perf_counter()
        epoch_images, epoch_start = 0, time.perf_counter()
        first = True
        while self.epoch < cfg.epochs and self.step < self.total_steps:
            order = self._epoch_order(self.epoch)
            while self.batch_in_epoch < self.steps_per_epoch and self.step < self.total_steps:
                if self.control.is_paused:
                    paused_at = time.perf_counter()
                    self._log(f"paused at step {self.step}")
                    self.control.wait_if_paused()
                    idle = time.perf_counter() - paused_at
                    window_start += idle
                    epoch_start += idle
                    started += idle
                if self.control.stop_requested:
                    raise _Stop
                idx = order[self.batch_in_epoch]
                images = self._batch(idx)
                step_fn = self._first_step_with_fallback if first else self._train_step
                loss, metrics = step_fn(images, idx)
                first = False
                loss = loss.detach()
                loss_sum += loss
                bad_step = torch.where(torch.isfinite(loss) | (bad_step >= 0), bad_step, self.step)
                self.step += 1
                self.batch_in_epoch += 1
                window_steps += 1
                epoch_images += cfg.batch_size
                over_budget = bool(cfg.time_budget_s) and time.perf_counter() - started > cfg.time_budget_s
                if self.world > 1:  # all processes must stop at one step: they agree every log_every steps (a collective)
                    over_budget = self.step % log_every == 0 and distributed.any_rank(over_budget, self.device)
                if over_budget:  # before the log below, so that the last step is always reported
                    self._log(f"time budget of {cfg.time_budget_s:g} s reached at step {self.step}")
                    self.total_steps = self.step
                at_epoch_end = self.batch_in_epoch == self.steps_per_epoch or self.step == self.total_steps
                if self.step % log_every == 0 or at_epoch_end:
                    self._check_finite(bad_step, loss)
                    now = time.perf_counter()
                    self._emit(StepEvent(
                        step=self.step, epoch=self.epoch, total_steps=self.total_steps,
                        # the mean over every process's images, like the one-process loss
                        loss=float(distributed.all_reduce_mean(loss_sum)) / window_steps,
                        lr=float(self.lr_schedule[self.step - 1]),
                        momentum=self.method.current_momentum(),
                        images_per_sec=window_steps * cfg.batch_size / max(now - window_start, 1e-9),
                        metrics={k: float(v) for k, v in metrics.items()},
                    ))
                    loss_sum.zero_()
                    window_steps, window_start = 0, now
            finished_epoch = self.batch_in_epoch == self.steps_per_epoch
            ips = epoch_images / max(time.perf_counter() - epoch_start, 1e-9)
            if finished_epoch:
                self.epoch += 1
                self.batch_in_epoch = 0
            last = self.epoch >= cfg.epochs or self.step >= self.total_steps
            if (finished_epoch and self.epoch % self.config.eval.every_epochs == 0) or last:
                self._epoch_end(ips)
            if (finished_epoch and self.epoch % cfg.checkpoint_every_epochs == 0) or last:
                self._save()
            # monitors and checkpoints are not training time: start the next throughput windows after them
            epoch_images, epoch_start = 0, time.perf_counter()
            window_start = epoch_start
        return "completed"

    def _check_finite(self, bad_step: torch.Tensor, loss: torch.Tensor) -> None:
        bad = int(distributed.all_reduce_max(bad_step))  # every process stops, not only the one that saw it
        if bad >= 0:
            raise TrainingDiverged(bad, float(loss))

    def _epoch_end(self, images_per_sec: float) -> None:
        found = run_monitors(self.method, self.monitor_sets, self.config.eval, self.config.data.image_size,
                             self.device, self.bf16)
        self._emit(EpochEvent(
            epoch=self.epoch, step=self.step, knn_accuracy=found.pop("knn_accuracy"),
            feature_std=found.pop("feature_std"), effective_rank=found.pop("effective_rank"),
            images_per_sec=images_per_sec, metrics=found,
        ))
        if distributed.is_main() and self.run_dir is not None and self.config.eval.probe_images:
            path, collapse = record_probes(self.method, self.probes, self.run_dir, self.epoch,
                                           self.config.data.image_size, self.device)
            self.latest_probe = ProbeEvent(self.epoch, self.step, str(path), collapse)
            self._emit(self.latest_probe)

    def fit(self) -> FinishedEvent:
        """Train until done, stopped, diverged or failed; return how it ended (also sent as an event).

        A failure before a resumed run starts training (its folder in use, a refused change, a damaged
        checkpoint) is reported but not recorded in the folder: the run keeps the status it had.
        """
        self._metrics, self._lock, self._recording, self._saved_step = None, None, False, None
        reason = ""
        try:
            try:
                self._setup()
                self._log(f"training {self.config.method.name} on {self.config.backbone.name} "
                          f"for {self.total_steps} steps")
                status = self._loop()
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
            if self._metrics is not None:
                self._metrics.close()
            if self._lock is not None:
                outcome = f"{status}: {reason}" if reason else status
                self._lock.release(outcome if self._recording else "")
        return finished

    def _resume_hint(self) -> str:
        if self._saved_step is None or self.run_dir is None:
            return ""
        return (f" The last checkpoint (step {self._saved_step}) is kept: "
                f"labbench train --resume {self.run_dir} continues from it.")

