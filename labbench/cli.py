"""The ``labbench`` command: train, list runs, show presets and configs, open the window."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

from labbench.config import RunConfig, apply_overrides, dump_toml, load_config, load_preset, preset_names
from labbench.errors import LabbenchError


def _format_eta(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s"


class ProgressPrinter:
    """Turns engine events into a one-line progress bar (a line per epoch when not on a terminal)."""

    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.start = time.perf_counter()

    def __call__(self, event) -> None:
        kind = event.kind
        if kind == "step" and self.tty:
            done = event.step / max(event.total_steps, 1)
            bar = "#" * int(30 * done) + "." * (30 - int(30 * done))
            eta = (time.perf_counter() - self.start) * (1 - done) / max(done, 1e-9)
            self.stream.write(
                f"\r[{bar}] step {event.step}/{event.total_steps} epoch {event.epoch + 1} "
                f"loss {event.loss:.4f} lr {event.lr:.3g} {event.images_per_sec:,.0f} img/s ETA {_format_eta(eta)}  "
            )
            self.stream.flush()
        elif kind == "epoch":
            knn = "n/a (unlabelled)" if event.knn_accuracy is None else f"{100 * event.knn_accuracy:.1f} %"
            self._line(
                f"epoch {event.epoch:>3}  step {event.step:>6}  k-NN {knn}  feature std {event.feature_std:.4f}  "
                f"effective rank {event.effective_rank:.1f}  {event.images_per_sec:,.0f} img/s"
            )
        elif kind == "log":
            self._line(("" if event.level == "info" else f"{event.level}: ") + event.message)
        elif kind == "finished":
            self._line(f"{event.status}: {event.message}")
            if event.run_dir:
                self._line(f"run folder: {event.run_dir}")

    def _line(self, text: str) -> None:
        self.stream.write(("\r\033[K" if self.tty else "") + text + "\n")
        self.stream.flush()


def build_config(args: argparse.Namespace) -> RunConfig:
    """Preset, then config file, then ``--data``, ``--name`` and ``--set`` overrides, in that order."""
    cfg = load_preset(args.preset)
    if args.config:
        cfg = load_config(args.config, base=cfg)
    overrides = []
    if args.data:
        if Path(args.data).is_dir():
            overrides += ["data.source=folder", f"data.root={str(Path(args.data).resolve())!r}"]
        else:
            overrides.append(f"data.source={args.data}")
    if args.name:
        overrides.append(f"name={args.name!r}")
    return apply_overrides(cfg, overrides + list(args.set or []))


def _install_stop_on_interrupt(control) -> None:
    """First Ctrl+C stops at the next step and saves a checkpoint; a second one exits at once."""

    def handler(signum, frame):
        if control.stop_requested:
            raise KeyboardInterrupt
        print("\nstopping after this step (Ctrl+C again to abort without saving)…", file=sys.stderr)
        control.stop()

    signal.signal(signal.SIGINT, handler)


def cmd_train(args: argparse.Namespace) -> int:
    from labbench.engine import Control, Trainer

    control = Control()
    _install_stop_on_interrupt(control)
    callbacks = [] if distributed_rank_env_nonzero() else [ProgressPrinter()]
    if args.resume:
        trainer = Trainer.resume(args.resume, callbacks, control)
    else:
        trainer = Trainer(build_config(args), callbacks, control, runs_root=args.runs_dir)
    result = trainer.fit()
    return 0 if result.status in ("completed", "stopped") else 1


def distributed_rank_env_nonzero() -> bool:
    """Under torchrun, only rank 0 prints (the process group is not up yet when callbacks are made)."""
    return int(os.environ.get("RANK", "0")) != 0


def cmd_runs(args: argparse.Namespace) -> int:
    from labbench.runs import list_runs

    runs = list_runs(args.runs_dir)
    if not runs:
        print(f"no runs under {args.runs_dir or 'runs'}")
        return 0
    print(f"{'run':<44} {'method':<10} {'backbone':<10} {'data':<8} {'status':<11} {'step':>7} {'loss':>8} {'k-NN':>7}")
    for r in runs:
        knn = "" if r.knn_accuracy is None else f"{100 * r.knn_accuracy:.1f}%"
        loss = "" if r.loss is None else f"{r.loss:.4f}"
        print(f"{r.name:<44} {r.method or '?':<10} {r.backbone or '?':<10} {r.dataset or '?':<8} "
              f"{r.status:<11} {r.step if r.step is not None else '':>7} {loss:>8} {knn:>7}")
    return 0


def cmd_presets(args: argparse.Namespace) -> int:
    for name in preset_names():
        cfg = load_preset(name)
        print(f"{name:<15} method={cfg.method.name:<15} backbone={cfg.backbone.name:<9} data={cfg.data.source:<7} "
              f"epochs={cfg.train.epochs:<3} batch={cfg.train.batch_size}")
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    print(dump_toml(build_config(args)), end="")
    return 0


def cmd_gui(args: argparse.Namespace) -> int:
    # The window lives in the ui package, which the engine never imports: start it as its own module.
    os.execv(sys.executable, [sys.executable, "-m", "ui", *args.gui_args])
    return 0  # not reached


def _percent(label: str, stream=sys.stderr):
    """A ``progress(done, total)`` callback that keeps one ``label NN %`` line up to date on a terminal."""
    if not stream.isatty():
        return None

    def report(done: int, total: int) -> bool:
        stream.write(f"\r{label} {100 * done / max(total, 1):3.0f} %" + ("\n" if done >= total else ""))
        stream.flush()
        return True

    return report


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def cmd_eval(args: argparse.Namespace) -> int:
    from labbench.evaluate.protocols import evaluate_run, format_table, results_table

    for run_dir in args.run_dirs:
        evaluate_run(
            run_dir, _names(args.protocols), data=args.data, device=args.device, baselines=not args.no_baselines,
            max_train=args.max_train, finetune_epochs=args.finetune_epochs, progress=_percent(f"evaluating {run_dir}"),
        )
    print(format_table(results_table(args.run_dirs, include_baselines=not args.no_baselines)))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from labbench.export import export_run

    result = export_run(args.run_dir, args.out, _names(args.formats), name=args.name, embeddings=args.embeddings,
                        progress=_percent("exporting"))
    for fmt, path in result.files.items():
        print(f"{fmt:<12} {path}  (reloaded: max |diff| {result.max_abs_diff[fmt]:.1e})")
    print(f"{'card':<12} {result.card_path}")
    if result.embeddings:
        print(f"{'embeddings':<12} {result.embeddings['projector_config.pbtxt'].parent}")
    return 0


def _add_config_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--preset", default="simclr", help="a preset shipped with labbench (labbench presets lists them) (default: simclr)")
    p.add_argument("--config", help="a TOML config file merged over the preset")
    p.add_argument("--data", help="a source name (shapes, digits, cifar10 …) or a folder of images")
    p.add_argument("--name", help="a short name for the run folder")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override, e.g. --set method.temperature=0.2")


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="labbench", description="Self-supervised learning lab bench.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train a method (headless)")
    _add_config_args(p)
    p.add_argument("--runs-dir", help="where run folders go (default: $LABBENCH_RUNS or ./runs)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue a run from its last checkpoint")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("runs", help="list runs with their last figures")
    p.add_argument("--runs-dir", help="where run folders are (default: $LABBENCH_RUNS or ./runs)")
    p.set_defaults(func=cmd_runs)

    p = sub.add_parser("presets", help="list the presets")
    p.set_defaults(func=cmd_presets)

    p = sub.add_parser("config", help="print the resolved config as TOML (for torchrun or a later --config)")
    _add_config_args(p)
    p.set_defaults(func=cmd_config)

    p = sub.add_parser("eval", help="score runs by k-NN, linear probe and fine-tuning, next to baselines")
    p.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="run folder(s); the table compares them")
    p.add_argument("--protocols", default="knn,linear,finetune", help="comma-separated (default: knn,linear,finetune)")
    p.add_argument("--data", help="evaluate on another labelled source or folder (default: the run's own data)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or mps (default: auto)")
    p.add_argument("--max-train", type=int, help="use at most this many labelled training images")
    p.add_argument("--finetune-epochs", type=int, default=5, help="epochs of end-to-end fine-tuning (default: 5)")
    p.add_argument("--no-baselines", action="store_true", help="skip the random-init and raw-pixel baselines")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("export", help="export a run's encoder (checked after writing) and a model card")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--formats", default="pt,safetensors,torchscript,onnx",
                   help="comma-separated from pt, safetensors, torchscript, onnx (default: all)")
    p.add_argument("--out", help="folder to write into (default: RUN_DIR/exports)")
    p.add_argument("--name", default="encoder", help="base name of the files (default: encoder)")
    p.add_argument("--embeddings", action="store_true",
                   help="also write the eval split's embeddings (TensorBoard projector bundle, .npy, .csv)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("gui", help="open the lab bench window")
    p.add_argument("gui_args", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_gui)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    try:
        return args.func(args)
    except LabbenchError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
