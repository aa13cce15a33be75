"""``labbench export``: a run's encoder in every format, each reloaded and checked, with a model card."""

from __future__ import annotations

import argparse
import sys

from labbench.cli.common import split_names
from labbench.cli.interrupts import AbortOnSignal
from labbench.cli.progress import percent_reporter


def cmd_export(args: argparse.Namespace) -> int:
    from labbench.export import export_run

    with AbortOnSignal():
        try:
            result = export_run(args.run_dir, args.out, split_names(args.formats), name=args.name,
                                embeddings=args.embeddings, progress=percent_reporter("exporting"))
        except KeyboardInterrupt:
            print("\nexport interrupted: nothing was replaced, no temporary file is left", file=sys.stderr)
            raise
    for fmt, path in result.files.items():
        print(f"{fmt:<12} {path}  (reloaded: max |diff| {result.max_abs_diff[fmt]:.1e})")
    print(f"{'card':<12} {result.card_path}")
    for hub_name, path in result.hub_files.items():
        print(f"{hub_name:<12} {path}")
    if result.embeddings:
        print(f"{'embeddings':<12} {result.embeddings['projector_config.pbtxt'].parent}")
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser("export", help="export a run's encoder (checked after writing) and a model card")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--formats", default="pt,safetensors,torchscript,onnx",
                   help="comma-separated from pt, safetensors, torchscript, onnx (default: all)")
    p.add_argument("--out", help="folder to write into (default: RUN_DIR/exports)")
    p.add_argument("--name", default="encoder", help="base name of the files (default: encoder)")
    p.add_argument("--embeddings", action="store_true",
                   help="also write the eval split's embeddings (TensorBoard projector bundle, .npy, .csv)")
    p.set_defaults(func=cmd_export)
