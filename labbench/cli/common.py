"""Arguments shared by the commands that build a run configuration."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from labbench.run_config import RunConfig


def build_config(args: argparse.Namespace) -> RunConfig:
    """Preset, then config file, then ``--data``, ``--name`` and ``--set`` overrides, in that order."""
    # here, not at the top: the config knows every method, which imports torch (`labbench --help` need not)
    from labbench.run_config import apply_overrides, load_config, load_preset

    cfg = load_preset(args.preset)
    if args.config:
        cfg = load_config(args.config, base=cfg)
    overrides = []
    if args.data:
        if Path(args.data).is_dir():
            from labbench.data import folder_source

            overrides += [f"data.source={folder_source(args.data)}", f"data.root={str(Path(args.data).resolve())!r}"]
        else:
            overrides.append(f"data.source={args.data}")
    if args.name:
        overrides.append(f"name={args.name!r}")
    return apply_overrides(cfg, overrides + list(args.set or []))


def add_config_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--preset", default="simclr", help="a preset shipped with labbench (default: simclr; labbench presets lists them)")
    p.add_argument("--config", help="a TOML config file merged over the preset")
    p.add_argument("--data", help="a source name (shapes, digits, cifar10 …) or a folder of images")
    p.add_argument("--name", help="a short name for the run folder")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override, e.g. --set method.temperature=0.2")


def split_names(text: str) -> list[str]:
    """``"a, b,,c"`` -> ``["a", "b", "c"]`` (comma-separated command-line lists)."""
    return [part.strip() for part in text.split(",") if part.strip()]
