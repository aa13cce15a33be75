"""The GPU suite: one command that proves the CUDA path and measures it, written up as a Markdown report.

    python benchmarks/gpu_suite.py [--device cuda] [--out gpu_suite_report.md] [--cifar-epochs 30]
    python benchmarks/gpu_suite.py --device cpu --tiny    # the whole suite on tiny sizes, without a GPU

Sections, each run whatever the others did (a failing section reports its error and the suite goes on):

1. the CUDA tests, ``pytest -m cuda``: bf16 + channels_last training steps of every method, the store on
   the GPU, exact resume, export from a CUDA run, nvJPEG-decoded streamed batches;
2. training throughput against lightly (benchmarks/peers.py) for SimCLR, MoCo v2 and BYOL on ResNet-18
   at batch 512 and 32 px, and DINO on ViT-S/16 at 96 px, with the share of the GPU's dense bf16 peak
   their FLOPs reach; the goals are ≥ 3× lightly's images/s for SimCLR and ≥ 40 % of the peak;
3. SimCLR on ResNet-18 on ``../shared/data/cifar10-jpg`` for a fixed number of epochs: the k-NN
   accuracy after each epoch and the time to reach each milestone;
4. the streaming loader: images/s of packed photos (256–500 px) decoded by nvJPEG on the GPU against
   DataLoader workers on the CPU (and NVIDIA DALI reading the same shards, when it is installed);
5. two processes training on one GPU under torchrun (nccl when it allows two ranks on one device, else gloo).

On a single H100 the full suite should take about 6 minutes (an estimate from its steps; not yet timed on a GPU).
"""

from __future__ import annotations

import labbench  # noqa: F401, I001 — before torch: it sets OpenMP's wait policy as the CLI does
import argparse
import dataclasses
import itertools
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from labbench.engine.device import physical_cores, resolve_device

from measure import machine_line
from peers import compare_throughput, gpu_peak_tflops

REPO = Path(__file__).resolve().parents[1]
#: the nearest shared/data/cifar10-jpg at or above the repository (the project keeps it at ../shared)
CIFAR10_JPG = next((p / "shared" / "data" / "cifar10-jpg" for p in (REPO, *REPO.parents)
                    if (p / "shared" / "data" / "cifar10-jpg").is_dir()), REPO.parent / "shared" / "data" / "cifar10-jpg")
KNN_MILESTONES = (0.30, 0.40, 0.50, 0.60, 0.70, 0.80)
GOAL_VS_LIGHTLY, GOAL_PEAK = 3.0, 0.40


@dataclass(frozen=True)
class Sizes:
    """How big each section runs: the GPU's sizes, or tiny ones that check the suite end to end on a CPU."""

    warmup: int = 20
    steps: int = 100
    resnet: tuple[str, ...] = ("backbone.name=resnet18", "train.batch_size=512", "data.image_size=32",
                               "data.num_images=60000")
    dino: tuple[str, ...] = ("backbone.name=vit_small", "backbone.patch_size=16", "data.image_size=96",
                             "train.batch_size=512", "data.num_images=20000")
    cifar: tuple[str, ...] = ("backbone.name=resnet18", "train.batch_size=512")
    cifar_epochs: int = 30
    pytest_filter: str = ""
    stream_images: int = 10000
    stream_sizes: tuple[int, ...] = (96, 224)
    stream_seconds: float = 15.0
    stream_batch: int = 256
    ddp: tuple[str, ...] = ("backbone.name=resnet18", "train.batch_size=512", "data.num_images=60000",
                            "train.max_steps=60")


TINY_NET = ("backbone.name=cnn", "backbone.width=8", "data.image_size=16", "train.batch_size=16",
            "data.num_images=64", "eval.max_bank=32", "eval.max_eval=16", "eval.knn_k=3")
TINY = Sizes(
    warmup=1, steps=2, resnet=TINY_NET,
    dino=("backbone.name=vit_tiny", "backbone.patch_size=4", "backbone.depth=1", "data.image_size=16",
          "train.batch_size=16", "data.num_images=64", "method.out_dim=64", "method.hidden_dim=32",
          "method.bottleneck_dim=16", "method.local_crops_number=2"),
    cifar=(*TINY_NET, "data.num_images=120"), cifar_epochs=1, pytest_filter="store or nvjpeg",
    stream_images=40, stream_sizes=(32,), stream_seconds=2.0, stream_batch=8,
    ddp=(*TINY_NET, "train.max_steps=4", "method.projection_dim=16"),
)


@dataclass
class Report:
    """The Markdown report, section by section."""

    lines: list[str] = field(default_factory=list)

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)
        print("\n".join(lines), flush=True)

    def table(self, headers: list[str], rows: list[list[str]]) -> None:
        self.add("| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|",
                 *("| " + " | ".join(row) + " |" for row in rows), "")

    def section(self, title: str, run: Callable[[], None]) -> None:
        self.add(f"## {title}", "")
        started = time.perf_counter()
        try:
            run()
        except Exception:  # noqa: BLE001 — one broken section must not cost the others their figures
            self.add("**failed:**", "", "```", *traceback.format_exc().strip().splitlines()[-12:], "```", "")
        self.add(f"_{time.perf_counter() - started:.0f} s_", "")


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


# -- 1. the CUDA tests --------------------------------------------------------------------------------------


def cuda_tests(report: Report, device: torch.device, sizes: Sizes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        junit = Path(tmp) / "junit.xml"
        cmd = [sys.executable, "-m", "pytest", "-m", "cuda", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}",
               *(["-k", sizes.pytest_filter] if sizes.pytest_filter else [])]
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        if device.type != "cuda":
            env["LABBENCH_TEST_DEVICE"] = device.type  # the same tests, run where they can
        done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
        cases = ET.parse(junit).getroot().iter("testcase") if junit.is_file() else []
        rows, counts = [], {"passed": 0, "failed": 0, "skipped": 0}
        for case in cases:
            problem = next((c for c in case if c.tag in ("failure", "error", "skipped")), None)
            outcome = "passed" if problem is None else "skipped" if problem.tag == "skipped" else "failed"
            counts[outcome] += 1
            if outcome != "passed":
                rows.append([f"`{case.get('name')}`", outcome, (problem.get("message") or "").splitlines()[0][:160]])
    report.add(f"`{' '.join(cmd[2:])}` on {device}: **{counts['passed']} passed, {counts['failed']} failed, "
               f"{counts['skipped']} skipped** (exit status {done.returncode})", "")
    if rows:
        report.table(["test", "outcome", "why"], rows)
    if done.returncode not in (0, 5) and not rows:
        report.add("```", *done.stdout.strip().splitlines()[-15:], "```", "")


# -- 2. throughput against lightly ---------------------------------------------------------------------------


def throughput(report: Report, device: torch.device, sizes: Sizes) -> None:
    cases = [("simclr", sizes.resnet), ("moco_v2", sizes.resnet), ("byol", sizes.resnet), ("dino", sizes.dino)]
    peak = gpu_peak_tflops(device) if device.type == "cuda" else None
    rows, simclr = [], None
    with tempfile.TemporaryDirectory() as runs_root:
        for method, overrides in cases:
            row = compare_throughput(method, [f"train.device={device.type}", *overrides], device, sizes.warmup,
                                     sizes.steps, runs_root, count_flops=True)
            ours_tflops = row.ours_flops / row.batch * row.ours / 1e12
            theirs_tflops = row.lightly_flops / row.batch * row.lightly / 1e12
            share = (lambda t: f"{100 * t / peak[1]:.1f} %") if peak else (lambda t: "n/a (no GPU)")
            rows.append([method, row.backbone, str(row.batch), f"{row.ours:,.0f}", f"{row.lightly:,.0f}",
                         f"{row.ours / row.lightly:.2f}×", f"{ours_tflops:.3g}", share(ours_tflops), share(theirs_tflops)])
            if method == "simclr":
                simclr = (row.ours / row.lightly, ours_tflops / peak[1] if peak else None)
    report.add(f"Warm-up {sizes.warmup} steps, then {sizes.steps} timed steps per side; lightly: its transforms on PIL "
               f"images in a DataLoader with {physical_cores()} workers. FLOPs of a step counted by "
               "torch.utils.flop_counter" + (f"; dense bf16 peak {peak[1]:g} TFLOP/s ({peak[0]})." if peak else "."), "")
    report.table(["method", "backbone", "batch", "ours img/s", "lightly img/s", "ratio", "ours TFLOP/s",
                  "ours % bf16 peak", "lightly % bf16 peak"], rows)
    ratio, share = simclr
    verdict = [(f"SimCLR ≥ {GOAL_VS_LIGHTLY:g}× lightly: **{'met' if ratio >= GOAL_VS_LIGHTLY else 'not met'}** "
                f"({ratio:.2f}×)")]
    if share is not None:
        verdict.append(f"≥ {100 * GOAL_PEAK:.0f} % of the bf16 peak: **{'met' if share >= GOAL_PEAK else 'not met'}** "
                       f"({100 * share:.1f} %)")
    report.add("Goals: " + "; ".join(verdict) + ".", "")


# -- 3. SimCLR on CIFAR-10 photos: time to each k-NN milestone ----------------------------------------------


def cifar_milestones(report: Report, device: torch.device, sizes: Sizes, folder: Path = CIFAR10_JPG) -> None:
    from labbench.run_config import apply_overrides, load_preset
    from labbench.engine import EpochEvent, StepEvent, Trainer

    if not (folder / "train").is_dir():
        report.add(f"Skipped: {folder} not found (give it with --cifar).", "")
        return
    cfg = apply_overrides(load_preset("simclr"), [
        "data.source=folder", f"data.root={str(folder)!r}", "data.num_images=0", "data.image_size=32",
        "eval.max_bank=10000", "eval.max_eval=2000", f"train.device={device.type}", "eval.probe_images=0",
        "train.checkpoint_every_epochs=1000000", *sizes.cifar, f"train.epochs={sizes.cifar_epochs}",
    ])
    epochs: list[tuple[int, float, float, float]] = []
    clock: dict[str, float] = {}

    def watch(event) -> None:
        if isinstance(event, StepEvent) and "start" not in clock:
            clock["start"] = time.perf_counter()  # from the first reported step on
        if isinstance(event, EpochEvent) and event.knn_accuracy is not None:
            epochs.append((event.epoch, time.perf_counter() - clock["start"], event.knn_accuracy, event.images_per_sec))

    with tempfile.TemporaryDirectory() as runs_root:
        result = Trainer(cfg, [watch], runs_root=runs_root).fit()
    if result.status != "completed":
        raise RuntimeError(f"the run did not complete: {result.message}")
    report.add(f"The simclr preset on {cfg.backbone.name}, batch {cfg.train.batch_size}, {cfg.train.epochs} epoch(s) of "
               f"the train/ folder; weighted k-NN (k = {cfg.eval.knn_k}) of test/ against train/ after every epoch; "
               "time from the first reported step, monitors included.", "")
    reached = []
    for goal in KNN_MILESTONES:
        first = next((e for e in epochs if e[2] >= goal), None)
        reached.append([f"{100 * goal:.0f} %", "not reached" if first is None else f"epoch {first[0]}",
                        "" if first is None else f"{first[1]:,.0f} s"])
    report.table(["k-NN milestone", "first reached", "time"], reached)
    report.table(["epoch", "time", "k-NN", "images/s"],
                 [[str(e), f"{t:,.0f} s", f"{100 * k:.1f} %", f"{ips:,.0f}"] for e, t, k, ips in epochs])


# -- 4. the streaming loader -----------------------------------------------------------------------------------


def _stream_rate(source, device: torch.device, seconds: float) -> float:
    if source.steps_per_epoch == 0:
        raise ValueError(f"too few images for one batch of {source.batch_size}: use more images")
    batches = itertools.chain.from_iterable(source.epoch(epoch, 0) for epoch in itertools.count())
    images, _ = next(batches)  # workers started, first batch decoded
    synchronize(device)
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        images, _ = next(batches)
        count += len(images)
    synchronize(device)
    return count / (time.perf_counter() - started)


def _dali_rate(pack: Path, size: int, batch: int, seconds: float) -> str:
    """NVIDIA DALI reading the same tar shards: SimCLR's two random crops decoded on the GPU (ROI decoding)."""
    try:
        from nvidia.dali import fn, pipeline_def, types
    except ImportError:
        return "not installed"

    @pipeline_def(batch_size=batch, num_threads=physical_cores(), device_id=0)
    def simclr_crops():
        jpegs = fn.readers.webdataset(paths=sorted(str(p) for p in pack.glob("*.tar")), ext=["jpg"],
                                      random_shuffle=True, name="shards")
        return tuple(fn.resize(fn.decoders.image_random_crop(jpegs, device="mixed", output_type=types.RGB,
                                                             random_area=[0.08, 1.0], random_aspect_ratio=[3 / 4, 4 / 3]),
                               size=[size, size]) for _ in range(2))

    pipe = simclr_crops()
    pipe.build()
    pipe.run()
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        pipe.run()
        count += batch
    return f"{count / (time.perf_counter() - started):,.0f}"


def streaming(report: Report, device: torch.device, sizes: Sizes) -> None:
    from streaming import write_folder

    from labbench.run_config import apply_overrides, load_preset
    from labbench.data import load_split
    from labbench.data.pack import pack_folder
    from labbench.engine.batches import StreamBatches, default_workers
    from labbench.methods import build_method

    workers = default_workers(1)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        write_folder(Path(tmp) / "photos", sizes.stream_images)
        packed = pack_folder(str(Path(tmp) / "photos"), Path(tmp) / "pack")
        report.add(f"{packed.images:,} photo-like JPEGs of 256–500 px packed into {packed.shards} shard(s) in "
                   f"{packed.seconds:.0f} s; SimCLR's two crops cut from the full-resolution images, the data "
                   "path alone (no model), one rank.", "")
        for size in sizes.stream_sizes:
            cfg = apply_overrides(load_preset("simclr"), [
                "data.source=shards", f"data.root={str(Path(tmp) / 'pack')!r}", "data.num_images=0",
                "data.store=stream", f"data.image_size={size}", f"train.device={device.type}",
                f"data.cache_dir={str(Path(tmp) / 'cache')!r}", f"train.batch_size={sizes.stream_batch}",
            ])
            train = load_split(cfg.data).train
            method = build_method(cfg, dataset_size=len(train))
            ways = [("DataLoader workers on the CPU", "cpu", workers)]
            if device.type == "cuda":
                ways.insert(0, ("nvJPEG on the GPU", "cuda", workers))
            for name, where, count in ways:
                way = apply_overrides(cfg, [f"data.decode_on={where}", f"data.workers={count}"])
                source = StreamBatches(train.images, way, device, 1, 0)
                source.prepare(method)
                rate = _stream_rate(source, device, sizes.stream_seconds)
                rows.append([f"{size} px", name, f"{count} reading/decoding processes", f"{rate:,.0f}"])
            if device.type == "cuda":
                rows.append([f"{size} px", "NVIDIA DALI (webdataset reader, mixed decoder)", "",
                             _dali_rate(Path(tmp) / "pack", size, cfg.train.batch_size, sizes.stream_seconds)])
    report.table(["size", "decoded by", "workers", "images/s"], rows)


# -- 5. two processes on one GPU ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def two_processes(report: Report, device: torch.device, sizes: Sizes) -> None:
    from tempfile import TemporaryDirectory

    attempts = ["nccl", "gloo"] if device.type == "cuda" else ["gloo"]
    for backend in attempts:
        with TemporaryDirectory() as runs:
            settings = [f"train.device={device.type}", "train.log_every_steps=5", "eval.probe_images=0", *sizes.ddp]
            cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-addr", "127.0.0.1",
                   "--master-port", str(_free_port()), "-m", "labbench", "train", "--preset", "simclr",
                   "--runs-dir", runs, *(a for s in settings for a in ("--set", s))]
            env = {**os.environ, "PYTHONPATH": str(REPO), "LABBENCH_DIST_BACKEND": backend}
            done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
            if done.returncode != 0:
                report.add(f"{backend}: failed (exit status {done.returncode}): "
                           f"`{(done.stderr.strip().splitlines() or ['no output'])[-1][:200]}`", "")
                continue
            (run,) = Path(runs).iterdir()
            records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
            steps = [r for r in records if r["kind"] == "step"]
            rates = [r["images_per_sec"] for r in steps[1:]] or [steps[-1]["images_per_sec"]]
            report.add(f"**{backend}**: 2 processes on one {device.type} device, {steps[-1]['step']} steps of a global "
                       f"batch; loss {steps[0]['loss']:.3f} → {steps[-1]['loss']:.3f}; "
                       f"{sum(rates) / len(rates):,.0f} images/s after the first report.", "")
            return
    raise RuntimeError("no backend could run two processes on this device")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", choices=("cuda", "cpu"))
    parser.add_argument("--out", default="gpu_suite_report.md", help="where the Markdown report is written")
    parser.add_argument("--tiny", action="store_true", help="tiny sizes: checks the suite end to end in a minute")
    parser.add_argument("--cifar-epochs", type=int, help="epochs of the CIFAR-10 run (default: 30)")
    parser.add_argument("--cifar", type=Path, default=CIFAR10_JPG, help=f"the CIFAR-10 JPEG folder (default: {CIFAR10_JPG})")
    parser.add_argument("--sections", default="tests,throughput,cifar,streaming,ddp",
                        help="comma-separated subset of tests, throughput, cifar, streaming, ddp")
    args = parser.parse_args()
    device = resolve_device(args.device)
    sizes = TINY if args.tiny else Sizes()
    if args.cifar_epochs:
        sizes = dataclasses.replace(sizes, cifar_epochs=args.cifar_epochs)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "no GPU (CPU)"
    report = Report()
    report.add(f"# GPU suite: {name}", "", machine_line(device) + (" · tiny sizes" if args.tiny else ""), "")
    started = time.perf_counter()
    sections = {
        "tests": ("CUDA tests (`pytest -m cuda`)", cuda_tests),
        "throughput": ("Training throughput against lightly", throughput),
        "cifar": ("SimCLR on CIFAR-10 photos: time to each k-NN milestone",
                  lambda report, device, sizes: cifar_milestones(report, device, sizes, args.cifar)),
        "streaming": ("Streaming loader", streaming),
        "ddp": ("Two processes on one device (torchrun)", two_processes),
    }
    for key in args.sections.split(","):
        title, run = sections[key.strip()]
        report.section(title, lambda run=run: run(report, device, sizes))
    report.add(f"Whole suite: {(time.perf_counter() - started) / 60:.1f} min.")
    Path(args.out).write_text("\n".join(report.lines) + "\n", encoding="utf-8")
    print(f"\nreport written to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
