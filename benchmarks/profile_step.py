"""Where a training step's time goes: views, forward and loss, backward, optimiser, after-step; top operators.

    python benchmarks/profile_step.py [--method simclr] [--precision fp32,bf16] [--steps 6] [--top 12] [--device cpu]

The method is built from its preset (the SimCLR preset: the small CNN, batch 256, 32 px) as the
trainer builds it (channels_last), and stepped on a random uint8 batch. Each phase is timed on its
own (with a device sync around it on CUDA), the precisions interleaved step by step so that a
change in the machine's load hits them alike; the median is printed. Then torch.profiler's table
of the operators that take the most time, for the first precision.
"""

from __future__ import annotations

import labbench  # noqa: F401, I001 — before torch: it sets OpenMP's wait policy as the CLI does
import argparse
import statistics
import time
from collections import defaultdict

import torch
from torch.profiler import ProfilerActivity, profile

from labbench.engine.device import default_threads, resolve_device
from labbench.engine.optim import build_optimizer
from labbench.methods import build_method

from measure import machine_line, print_table
from peers import method_config, synchronize

PHASES = ("views", "forward + loss", "backward", "optimiser", "after step")


class Stepper:
    """One method, its optimiser and a batch: a training step cut into timed phases."""

    def __init__(self, method_name: str, device: torch.device, bf16: bool) -> None:
        cfg = method_config(method_name, [f"train.device={device.type}"])
        torch.manual_seed(cfg.train.seed)
        self.method = build_method(cfg, dataset_size=cfg.data.num_images).to(device, memory_format=torch.channels_last)
        self.optimizer = build_optimizer(self.method.param_groups(cfg.optim.weight_decay), cfg.optim,
                                         cfg.train.batch_size, fused=device.type == "cuda")
        size = cfg.data.image_size
        self.images = torch.randint(0, 256, (cfg.train.batch_size, 3, size, size), dtype=torch.uint8, device=device)
        self.indices = torch.arange(cfg.train.batch_size, device=device)
        self.g = torch.Generator(device=device).manual_seed(0)
        self.device, self.bf16, self.batch = device, bf16, cfg.train.batch_size

    def _timed(self, times: dict[str, list[float]], phase: str, fn):
        synchronize(self.device)
        start = time.perf_counter()
        out = fn()
        synchronize(self.device)
        times[phase].append(time.perf_counter() - start)
        return out

    def step(self, times: dict[str, list[float]]) -> None:
        m = self.method
        extra = {"indices": self.indices} if m.needs_indices else {}
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
            # the views alone, for their share; the step below makes its own (the same work again)
            with torch.no_grad():
                self._timed(times, "views", lambda: m.make_views(self.images, self.g))
            loss, _ = self._timed(times, "forward + loss", lambda: m(self.images, self.g, **extra))
        self.optimizer.zero_grad(set_to_none=True)
        self._timed(times, "backward", loss.backward)
        self._timed(times, "optimiser", self.optimizer.step)
        self._timed(times, "after step", lambda: m.after_step(1, 1000))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", default="simclr")
    parser.add_argument("--precision", default="fp32,bf16", help="comma-separated: fp32, bf16")
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--top", type=int, default=12, help="operators in the profile table (0: none)")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--threads", type=int, help="torch threads (default: physical cores)")
    args = parser.parse_args()
    device = resolve_device(args.device)
    torch.set_num_threads(args.threads or default_threads())
    print(machine_line(device) + f" · {torch.get_num_threads()} threads")

    precisions = args.precision.split(",")
    steppers = {p: Stepper(args.method, device, p == "bf16") for p in precisions}
    times = {p: defaultdict(list) for p in precisions}
    for p in precisions:  # warm-up: first calls allocate and pick kernels
        steppers[p].step(defaultdict(list))
    for _ in range(args.steps):
        for p in precisions:
            steppers[p].step(times[p])

    batch = next(iter(steppers.values())).batch
    rows = []
    for phase in PHASES:
        rows.append([phase] + [f"{1000 * statistics.median(times[p][phase]):.1f}" for p in precisions])
    # the step is forward (which includes its views) + backward + optimiser + after step
    totals = {p: sum(statistics.median(times[p][ph]) for ph in PHASES[1:]) for p in precisions}
    rows.append(["step (without the separate views)"] + [f"{1000 * totals[p]:.1f}" for p in precisions])
    rows.append(["images/s"] + [f"{batch / totals[p]:,.0f}" for p in precisions])
    print(f"\n{args.method}, batch {batch}: median ms over {args.steps} steps\n")
    print_table(["phase"] + precisions, rows)

    if args.top:
        first = steppers[precisions[0]]
        with profile(activities=[ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])) as prof:
            for _ in range(2):
                first.step(defaultdict(list))
        print(f"\ntop operators, {precisions[0]}, 2 steps (views counted twice: see above)\n")
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=args.top))


if __name__ == "__main__":
    main()
