"""Our trainer against lightly's recommended pipeline: images/s, and k-NN accuracy at equal wall time.

    python benchmarks/peers.py [--device cpu|cuda] [--methods simclr,moco,byol,dino] [--warmup N] [--steps N]
                               [--accuracy-seconds 120] [--accuracy-methods simclr] [--peer-channels-last]

Both sides train the same modules (our backbone and heads, built from the method's preset with the
same seed), at the same batch size and image size, with the same optimiser and schedule. What
differs is everything around them:

- ours: ``labbench.engine.Trainer`` as a user runs it: uint8 images held once, views made in
  batches by ``ViewPipeline`` on the training device, channels_last, bf16 autocast on CUDA;
- lightly 1.6 as its examples run it: its SimCLRTransform / MoCoV2Transform / BYOLTransform /
  DINOTransform on PIL images in a torch DataLoader with one worker per core, its loss modules
  (NTXentLoss, NTXentLoss with a memory bank, NegativeCosineSimilarity, DINOLoss) and
  ``update_momentum``, in a plain PyTorch loop (bf16 autocast on CUDA too, as lightly's benchmarks).
  The PIL images are decoded once and kept in RAM, which spares lightly the JPEG decoding a folder
  dataset would pay for. ``--peer-channels-last`` also gives it our channels_last model layout, to
  show how much of the difference is the layout and how much the data pipeline.

Throughput: a warm-up, then N timed steps each, in one process. Accuracy: each side trains for the
same seconds with its cosine schedule fitted to the steps its own throughput allows, then both
encoders are scored by the same weighted k-NN on the same split. ``--device cuda`` adds the share of
the GPU's dense bf16 peak that the model's FLOPs (torch.utils.flop_counter) reach.
"""

from __future__ import annotations

import labbench  # noqa: F401, I001 — before torch: it sets OpenMP's wait policy as the CLI does
import argparse
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass

import torch
from PIL import Image
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset
from torch.utils.flop_counter import FlopCounterMode

from labbench.augment.pipeline import SIGMA_REFERENCE_SIZE
from labbench.data import ImageSet, Split, load_split
from labbench.engine import Trainer
from labbench.engine.device import physical_cores, resolve_device, use_bf16
from labbench.engine.monitors import MonitorSets
from labbench.engine.optim import build_optimizer, scaled_lr
from labbench.evaluate.features import extract_features
from labbench.evaluate.knn import weighted_knn_accuracy
from labbench.methods import Method, build_method
from labbench.models.modes import eval_mode
from labbench.run_config import RunConfig, apply_overrides, load_preset, preset_names
from labbench.schedules import cosine_schedule

from measure import StepClock, machine_line, print_table

PEER_METHODS = ("simclr", "moco", "byol", "dino")

#: dense bf16 tensor-core peaks (TFLOP/s, no sparsity) from the vendors' data sheets, by device-name fragment
BF16_PEAK_TFLOPS = {
    "H200": 989.0, "H100 PCIe": 756.0, "H100 NVL": 835.0, "H100": 989.0, "GH200": 989.0,
    "A100": 312.0, "L40S": 362.0, "L4": 121.0, "A10": 125.0, "RTX 4090": 165.0,
}
DEFAULT_PEAK = ("H100 SXM", 989.0)

# -- configs and machine ---------------------------------------------------------------------------


def method_config(method: str, overrides: list[str] = ()) -> RunConfig:
    """The method's preset (or the SimCLR preset's data, backbone and schedule when it has none), with ``overrides``."""
    if method in preset_names():
        return apply_overrides(load_preset(method), list(overrides))
    return apply_overrides(load_preset("simclr"), [f"method.name={method}", *overrides])


def gpu_peak_tflops(device: torch.device, override: float | None = None) -> tuple[str, float]:
    """(name, dense bf16 TFLOP/s) of the GPU, from the table above; an unknown card is assumed an H100 SXM."""
    if override:
        return "given", override
    name = torch.cuda.get_device_name(device)
    for fragment, peak in BF16_PEAK_TFLOPS.items():
        if fragment in name:
            return fragment, peak
    return DEFAULT_PEAK


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


# -- our trainer -----------------------------------------------------------------------------------


def _quiet(cfg: RunConfig, extra: list[str]) -> RunConfig:
    """No monitors or checkpoints inside the measured window: only the last epoch's, after it."""
    return apply_overrides(cfg, ["eval.every_epochs=1000000", "train.checkpoint_every_epochs=1000000", *extra])


def trainer_images_per_sec(cfg: RunConfig, warmup: int, steps: int, runs_root: str) -> float:
    """Images/s of ``Trainer.fit`` between the end of step ``warmup`` and the end of ``warmup + steps``.

    Timed from the trainer's own step events (read every ``warmup`` steps, its normal cadence), so the
    loop pays exactly the host syncs it pays in a real run.
    """
    steps = -(-steps // warmup) * warmup
    cfg = _quiet(cfg, [f"train.max_steps={warmup + steps}", f"train.log_every_steps={warmup}",
                       "eval.max_bank=64", "eval.max_eval=64", "eval.probe_images=0"])
    clock = StepClock()
    result = Trainer(cfg, [clock], runs_root=runs_root).fit()
    if result.status != "completed":
        raise RuntimeError(f"our trainer did not finish: {result.message}")
    return clock.images_per_sec(cfg.train.batch_size)


def steps_for_budget(cfg: RunConfig, seconds: float, images_per_sec: float) -> int:
    """Steps that fit ``seconds`` at ``images_per_sec``: the length given to the schedules, so that they end in the budget."""
    return max(1, int(seconds * images_per_sec / cfg.train.batch_size))


@dataclass
class Trained:
    """A method after a budgeted run: its steps and the images/s of its training steps (set-up and evaluation left out)."""

    method: Method
    steps: int
    images_per_sec: float
    loss_first_last: tuple[float, float]


def train_ours(cfg: RunConfig, seconds: float, images_per_sec: float, train_images: int, runs_root: str) -> Trained:
    """Our trainer for at most ``seconds``, its schedule fitted to them; steps timed one by one (a read-back
    each, which costs nothing on the CPU and little on a GPU)."""
    steps = steps_for_budget(cfg, seconds, images_per_sec)
    epochs = -(-steps // (train_images // cfg.train.batch_size))
    cfg = _quiet(cfg, [f"train.epochs={epochs}", f"train.max_steps={steps}", f"train.time_budget_s={seconds}",
                       "train.log_every_steps=1", "eval.probe_images=0"])
    clock = StepClock()
    trainer = Trainer(cfg, [clock], runs_root=runs_root)
    result = trainer.fit()
    if result.status != "completed":
        raise RuntimeError(f"our trainer did not finish: {result.message}")
    return Trained(trainer.method, trainer.step, clock.images_per_sec(cfg.train.batch_size), clock.loss_fall())


# -- lightly's pipeline ----------------------------------------------------------------------------


class PILImages(Dataset):
    """The uint8 images as PIL images, each through a lightly multi-view transform (a list of views)."""

    def __init__(self, images: Tensor, transform: Callable[[Image.Image], list[Tensor]]) -> None:
        self.pixels = images.permute(0, 2, 3, 1).contiguous().numpy()
        self.transform = transform

    def __len__(self) -> int:
        return len(self.pixels)

    def __getitem__(self, i: int) -> list[Tensor]:
        return self.transform(Image.fromarray(self.pixels[i]))


@dataclass
class PeerRecipe:
    """One method in lightly's style: its transform, its loss over a batch of views, and the EMA update."""

    transform: Callable[[Image.Image], list[Tensor]]
    loss: Callable[[list[Tensor], int], Tensor]           # (views, epoch) -> loss
    after_step: Callable[[int, int], None] = lambda step, total: None
    before_optimizer_step: Callable[[int], None] = lambda epoch: None


def _jitter_args(cfg: RunConfig) -> dict:
    """Our colour jitter (0.8s brightness/contrast/saturation, 0.2s hue) in lightly's arguments."""
    a = cfg.augment
    s = a.jitter_strength
    return dict(cj_prob=a.jitter_p, cj_strength=1.0, cj_bright=0.8 * s, cj_contrast=0.8 * s, cj_sat=0.8 * s,
                cj_hue=0.2 * s, random_gray_scale=a.grayscale_p, hf_prob=a.flip_p)


def _sigmas(cfg: RunConfig, size: int) -> tuple[float, float]:
    """Blur sigmas in pixels of a ``size``-px view, as our pipeline scales the 224-px values."""
    return tuple(v * size / SIGMA_REFERENCE_SIZE for v in cfg.augment.blur_sigma)


def _on_device(m: Method, criterion: nn.Module) -> nn.Module:
    """A lightly loss module (its centre, its memory bank) on the method's device."""
    return criterion.to(next(m.parameters()).device)


def _simclr(m: Method, cfg: RunConfig) -> PeerRecipe:
    from lightly.loss import NTXentLoss
    from lightly.transforms import SimCLRTransform

    size, a = cfg.data.image_size, cfg.augment
    transform = SimCLRTransform(input_size=size, min_scale=a.crop_scale[0], gaussian_blur=a.blur_p,
                                sigmas=_sigmas(cfg, size), **_jitter_args(cfg))
    criterion = _on_device(m, NTXentLoss(temperature=cfg.method.temperature))
    return PeerRecipe(transform, lambda v, e: criterion(m.projection(m.encoder(v[0])), m.projection(m.encoder(v[1]))))


def _moco(m: Method, cfg: RunConfig) -> PeerRecipe:
    from lightly.loss import NTXentLoss
    from lightly.models.utils import update_momentum
    from lightly.transforms import MoCoV2Transform

    size, a = cfg.data.image_size, cfg.augment
    transform = MoCoV2Transform(input_size=size, min_scale=a.crop_scale[0], gaussian_blur=a.blur_p,
                                sigmas=_sigmas(cfg, size), **_jitter_args(cfg))
    criterion = _on_device(m, NTXentLoss(temperature=m.temperature, memory_bank_size=tuple(m.queue.shape)))

    def loss(views: list[Tensor], epoch: int) -> Tensor:
        query = m.head(m.encoder(views[0]))
        with torch.no_grad():
            key = m.key_head(m.key_encoder(views[1]))
        return criterion(query, key)

    def after_step(step: int, total: int) -> None:
        momentum = m.momentum_schedule(step, total)
        update_momentum(m.encoder, m.key_encoder, momentum)
        update_momentum(m.head, m.key_head, momentum)

    return PeerRecipe(transform, loss, after_step)


def _byol(m: Method, cfg: RunConfig) -> PeerRecipe:
    from lightly.loss import NegativeCosineSimilarity
    from lightly.models.utils import update_momentum
    from lightly.transforms import BYOLTransform, BYOLView1Transform, BYOLView2Transform

    size, a = cfg.data.image_size, cfg.augment
    common = dict(input_size=size, min_scale=a.crop_scale[0], sigmas=_sigmas(cfg, size), **_jitter_args(cfg))
    p1, p2 = m.pipelines
    transform = BYOLTransform(
        BYOLView1Transform(gaussian_blur=p1.blur_p, solarization_prob=p1.solarize_p, **common),
        BYOLView2Transform(gaussian_blur=p2.blur_p, solarization_prob=p2.solarize_p, **common),
    )
    criterion = NegativeCosineSimilarity()

    def loss(views: list[Tensor], epoch: int) -> Tensor:
        p = [m.predictor(m.projector(m.encoder(v))) for v in views]
        with torch.no_grad():
            t = [m.target_projector(m.target_encoder(v)) for v in views]
        return 0.5 * (criterion(p[0], t[1]) + criterion(p[1], t[0]))

    def after_step(step: int, total: int) -> None:
        momentum = m.momentum_schedule(step, total)
        update_momentum(m.encoder, m.target_encoder, momentum)
        update_momentum(m.projector, m.target_projector, momentum)

    return PeerRecipe(transform, loss, after_step)


def _dino(m: Method, cfg: RunConfig) -> PeerRecipe:
    from lightly.loss import DINOLoss
    from lightly.models.utils import update_momentum
    from lightly.transforms import DINOTransform

    c, a, size = cfg.method, cfg.augment, cfg.data.image_size
    g1, g2 = m.global_pipelines
    jitter = _jitter_args(cfg)
    transform = DINOTransform(
        global_crop_size=size, global_crop_scale=c.global_crops_scale, local_crop_size=m.local_size,
        local_crop_scale=c.local_crops_scale, n_local_views=c.local_crops_number,
        gaussian_blur=(g1.blur_p, g2.blur_p, m.local_pipeline.blur_p), sigmas=_sigmas(cfg, size),
        solarization_prob=g2.solarize_p, **jitter,
    )
    criterion = _on_device(m, DINOLoss(
        output_dim=c.out_dim, warmup_teacher_temp=c.warmup_teacher_temp, teacher_temp=c.teacher_temp,
        warmup_teacher_temp_epochs=int(c.warmup_teacher_temp_epochs), student_temp=c.student_temp,
        center_momentum=c.center_momentum,
    ))
    student, teacher = m.student, m.teacher

    def loss(views: list[Tensor], epoch: int) -> Tensor:
        with torch.no_grad():
            teacher_out = [teacher.head(teacher.backbone(v)) for v in views[:2]]
        student_out = [student.head(student.backbone(v)) for v in views]
        return criterion(teacher_out, student_out, epoch=epoch)

    def before_optimizer_step(epoch: int) -> None:
        if epoch < c.freeze_last_layer:  # lightly's DINOProjectionHead.cancel_last_layer_gradients
            for p in student.head.last_layer.parameters():
                p.grad = None

    def after_step(step: int, total: int) -> None:
        update_momentum(student, teacher, m.momentum_schedule(step, total))

    return PeerRecipe(transform, loss, after_step, before_optimizer_step)


PEER_RECIPES: dict[str, Callable[[Method, RunConfig], PeerRecipe]] = {
    "simclr": _simclr, "moco": _moco, "byol": _byol, "dino": _dino,
}


class LightlyPipeline:
    """lightly's data pipeline and a plain PyTorch loop around the same modules our trainer trains."""

    def __init__(self, cfg: RunConfig, train: ImageSet, device: torch.device, total_steps: int | None = None,
                 channels_last: bool = False) -> None:
        self.cfg, self.device = cfg, device
        self.bf16 = use_bf16(cfg.train.precision, device)
        torch.manual_seed(cfg.train.seed)
        self.method = build_method(cfg, dataset_size=len(train)).to(device)
        if channels_last:
            self.method = self.method.to(memory_format=torch.channels_last)
        self.recipe = PEER_RECIPES[cfg.method.name](self.method, cfg)
        self.loader = DataLoader(
            PILImages(train.images, self.recipe.transform), batch_size=cfg.train.batch_size, shuffle=True,
            drop_last=True, num_workers=physical_cores(), persistent_workers=True,
            pin_memory=device.type == "cuda", generator=torch.Generator().manual_seed(cfg.train.seed),
        )
        self.steps_per_epoch = len(self.loader)
        self.optimizer = build_optimizer(self.method.param_groups(cfg.optim.weight_decay), cfg.optim,
                                         cfg.train.batch_size, fused=device.type == "cuda")
        self._schedules(total_steps or self.steps_per_epoch * cfg.train.epochs)
        self.step = 0
        self._batches = self._forever()

    def _schedules(self, total_steps: int) -> None:
        """Learning-rate and weight-decay schedules over ``total_steps``, computed as our trainer computes them."""
        o = self.cfg.optim
        self.total_steps = total_steps
        peak = scaled_lr(o, self.cfg.train.batch_size)
        warmup = int(round(o.warmup_epochs * self.steps_per_epoch))
        self.lr = cosine_schedule(peak, peak * o.min_lr_ratio, self.total_steps, warmup)
        self.wd = None if o.weight_decay_end is None else cosine_schedule(o.weight_decay, o.weight_decay_end, self.total_steps)

    def _forever(self) -> Iterator[list[Tensor]]:
        while True:
            for views in self.loader:
                yield [v.to(self.device, non_blocking=True) for v in views]

    def train_step(self) -> Tensor:
        step = min(self.step, self.total_steps - 1)
        epoch = self.step // self.steps_per_epoch
        for group in self.optimizer.param_groups:
            group["lr"] = float(self.lr[step])
            if self.wd is not None and group["weight_decay"] > 0:
                group["weight_decay"] = float(self.wd[step])
        views = next(self._batches)
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
            loss = self.recipe.loss(views, epoch)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.recipe.before_optimizer_step(epoch)
        if self.cfg.optim.clip_grad:
            torch.nn.utils.clip_grad_norm_(self.method.parameters(), self.cfg.optim.clip_grad)
        self.optimizer.step()
        self.recipe.after_step(step, self.total_steps)
        self.step += 1
        return loss.detach()

    def images_per_sec(self, warmup: int, steps: int) -> float:
        for _ in range(warmup):
            self.train_step()
        synchronize(self.device)
        start = time.perf_counter()
        for _ in range(steps):
            self.train_step()
        synchronize(self.device)
        return steps * self.cfg.train.batch_size / (time.perf_counter() - start)

    def train_for(self, seconds: float) -> int:
        """Steps until the schedule ends or ``seconds`` pass (whichever first); returns the steps taken."""
        start = time.perf_counter()
        while self.step < self.total_steps and time.perf_counter() - start < seconds:
            self.train_step()
        synchronize(self.device)
        return self.step

    def step_flops(self) -> int:
        """FLOPs of one training step (forward and backward), as torch's FlopCounterMode counts them."""
        with FlopCounterMode(display=False) as counter:
            self.train_step()
        return counter.get_total_flops()

    def close(self) -> None:
        del self._batches
        self.loader = None


# -- scoring and FLOPs -----------------------------------------------------------------------------


def knn_score(method: Method, split: Split, cfg: RunConfig, device: torch.device) -> float:
    """Weighted k-NN accuracy of the method's encoder: the monitors' bank and eval subsets, the run's k and τ."""
    sets = MonitorSets.choose(split.train, split.eval, cfg.eval, cfg.train.seed)
    return knn_of(method.embed, sets, cfg, device, method)


def knn_of(embed: Callable[[Tensor], Tensor], sets: MonitorSets, cfg: RunConfig, device: torch.device,
           module: nn.Module | None = None) -> float:
    """Weighted k-NN accuracy of any feature function (an encoder, raw pixels) on fixed bank/eval sets."""
    with eval_mode(module) if module is not None else nullcontext():
        size = cfg.data.image_size
        bank = extract_features(embed, sets.bank.images, size, device)
        queries = extract_features(embed, sets.eval.images, size, device)
    return weighted_knn_accuracy(bank, sets.bank.labels.to(device), queries, sets.eval.labels.to(device),
                                 k=cfg.eval.knn_k, temperature=cfg.eval.knn_temperature)


def our_step_flops(cfg: RunConfig, device: torch.device, train_images: int) -> int:
    """FLOPs of one of our training steps (views, forward, backward) on a random uint8 batch."""
    torch.manual_seed(cfg.train.seed)
    method = build_method(cfg, dataset_size=train_images).to(device, memory_format=torch.channels_last)
    size = cfg.data.image_size
    images = torch.randint(0, 256, (cfg.train.batch_size, 3, size, size), dtype=torch.uint8, device=device)
    g = torch.Generator(device=device).manual_seed(0)
    with FlopCounterMode(display=False) as counter:
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16(cfg.train.precision, device)):
            loss, _ = method(images, g)
        loss.backward()
    return counter.get_total_flops()


# -- the comparison --------------------------------------------------------------------------------


@dataclass
class ThroughputRow:
    method: str
    backbone: str
    batch: int
    ours: float
    lightly: float
    ours_flops: int = 0
    lightly_flops: int = 0


def compare_throughput(method: str, overrides: list[str], device: torch.device, warmup: int, steps: int,
                       runs_root: str, count_flops: bool = False, peer_channels_last: bool = False) -> ThroughputRow:
    """Images/s of our trainer and of lightly's pipeline for ``method``, one after the other."""
    cfg = method_config(method, overrides)
    split = load_split(cfg.data)
    ours = trainer_images_per_sec(cfg, warmup, steps, runs_root)
    peer = LightlyPipeline(cfg, split.train, device, channels_last=peer_channels_last)
    try:
        theirs = peer.images_per_sec(warmup, steps)
        lightly_flops = peer.step_flops() if count_flops else 0
    finally:
        peer.close()
    ours_flops = our_step_flops(cfg, device, len(split.train)) if count_flops else 0
    return ThroughputRow(method, cfg.backbone.name, cfg.train.batch_size, ours, theirs, ours_flops, lightly_flops)


def compare_accuracy(method: str, overrides: list[str], device: torch.device, seconds: float, runs_root: str
                     ) -> tuple[float, int, float, int]:
    """(our k-NN, our steps, lightly's k-NN, lightly's steps) after ``seconds`` of training each."""
    cfg = method_config(method, overrides)
    split = load_split(cfg.data)
    n = len(split.train)
    ours = train_ours(cfg, seconds, trainer_images_per_sec(cfg, 2, 4, runs_root), n, runs_root)
    ours_knn = knn_score(ours.method, split, cfg, device)
    probe = LightlyPipeline(cfg, split.train, device)
    try:
        peer_ips = probe.images_per_sec(2, 4)
    finally:
        probe.close()
    peer = LightlyPipeline(cfg, split.train, device, steps_for_budget(cfg, seconds, peer_ips))
    try:
        peer_steps = peer.train_for(seconds)
        peer_knn = knn_score(peer.method, split, cfg, device)
    finally:
        peer.close()
    return ours_knn, ours.steps, peer_knn, peer_steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--methods", default=",".join(PEER_METHODS))
    parser.add_argument("--warmup", type=int, help="steps before timing (default: 3 on the CPU, 20 on CUDA)")
    parser.add_argument("--steps", type=int, help="timed steps (default: 10 on the CPU, 100 on CUDA)")
    parser.add_argument("--backbone", help="override every preset's backbone (default on CUDA: resnet18)")
    parser.add_argument("--batch", type=int, help="override every preset's batch size (default on CUDA: 512)")
    parser.add_argument("--accuracy-seconds", type=float, default=120.0, help="training time per side; 0 skips")
    parser.add_argument("--accuracy-methods", default="simclr")
    parser.add_argument("--peak-tflops", type=float, help="the GPU's dense bf16 peak, if not in the table")
    parser.add_argument("--peer-channels-last", action="store_true", help="give lightly's loop our channels_last layout")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="extra config override")
    args = parser.parse_args()

    device = resolve_device(args.device)
    cuda = device.type == "cuda"
    warmup, steps = args.warmup or (20 if cuda else 3), args.steps or (100 if cuda else 10)
    overrides = [f"train.device={device.type}"]
    if cuda:  # a GPU step is milliseconds: a CIFAR-sized set, so that epochs (and lightly's worker restarts) are rare
        overrides += ["backbone.name=resnet18", "train.batch_size=512", "data.num_images=60000"]
    overrides += [f"backbone.name={args.backbone}"] if args.backbone else []
    overrides += [f"train.batch_size={args.batch}"] if args.batch else []
    overrides += args.set
    import lightly

    print(f"{machine_line(device)} · lightly {lightly.__version__}")
    print(f"warm-up {warmup} steps, then {steps} timed steps per side; lightly: {physical_cores()} DataLoader "
          f"workers{', channels_last model' if args.peer_channels_last else ''}; overrides: {' '.join(overrides)}\n")

    rows = []
    with tempfile.TemporaryDirectory() as runs_root:
        for method in args.methods.split(","):
            row = compare_throughput(method, overrides, device, warmup, steps, runs_root, count_flops=True,
                                     peer_channels_last=args.peer_channels_last)
            rows.append(row)
            print(f"  {method}: ours {row.ours:,.0f} img/s, lightly {row.lightly:,.0f} img/s", flush=True)
        headers = ["method", "backbone", "batch", "ours img/s", "lightly img/s", "ratio", "ours TFLOP/s", "lightly TFLOP/s"]
        table = [[r.method, r.backbone, str(r.batch), f"{r.ours:,.0f}", f"{r.lightly:,.0f}", f"{r.ours / r.lightly:.2f}×",
                  f"{r.ours_flops / r.batch * r.ours / 1e12:.3g}", f"{r.lightly_flops / r.batch * r.lightly / 1e12:.3g}"]
                 for r in rows]
        if cuda:
            name, peak = gpu_peak_tflops(device, args.peak_tflops)
            headers += ["ours % bf16 peak", "lightly % bf16 peak"]
            for r, line in zip(rows, table):
                line += [f"{100 * r.ours_flops / r.batch * r.ours / (peak * 1e12):.1f} %",
                         f"{100 * r.lightly_flops / r.batch * r.lightly / (peak * 1e12):.1f} %"]
        print()
        print_table(headers, table)
        print("\nFLOPs of a training step (forward and backward) counted by torch.utils.flop_counter.FlopCounterMode"
              + (f"; peak assumed: {name}, {peak:g} TFLOP/s dense bf16" if cuda else ""))

        if args.accuracy_seconds > 0:
            print(f"\nk-NN accuracy after {args.accuracy_seconds:g} s of training each (same split, same weighted k-NN):")
            acc_rows = []
            for method in args.accuracy_methods.split(","):
                ours, our_steps, theirs, their_steps = compare_accuracy(
                    method, overrides, device, args.accuracy_seconds, runs_root)
                acc_rows.append([method, f"{100 * ours:.1f} % ({our_steps} steps)",
                                 f"{100 * theirs:.1f} % ({their_steps} steps)"])
                print(f"  {method}: ours {acc_rows[-1][1]}, lightly {acc_rows[-1][2]}", flush=True)
            print_table(["method", "ours", "lightly"], acc_rows)

if __name__ == "__main__":
    main()
