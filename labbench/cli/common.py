"""Arguments shared by the commands that build a run configuration."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from labbench.config import to_dict, toml_value
from labbench.errors import ConfigError, DataError

if TYPE_CHECKING:
    from labbench.run_config import RunConfig

DEFAULT_PRESET = "simclr"


def data_overrides(data: str) -> list[str]:
    """``--data``: a folder of images or packed shards (any characters in its path) or a source name, as
    overrides."""
    if Path(data).is_dir():
        from labbench.data import folder_source
        from labbench.data.folder import check_image_root

        root = str(Path(data).resolve())
        try:
            check_image_root(root)
        except DataError as err:
            raise ConfigError(f"--data: {err}") from None
        return [f"data.source={folder_source(root)}", f"data.root={toml_value(root)}"]
    if os.sep in data or (os.altsep and os.altsep in data) or data.startswith("."):
        raise ConfigError(f"--data {data}: no such folder (give a folder of images or a source name such as shapes)")
    return [f"data.source={toml_value(data)}"]


def build_config(args: argparse.Namespace) -> RunConfig:
    """Preset, then config file, then ``--data``, ``--name`` and ``--set`` overrides, in that order."""
    # here, not at the top: the config knows every method, which imports torch (`labbench --help` need not)
    from labbench.run_config import apply_overrides, load_config, load_preset

    cfg = load_preset(args.preset or DEFAULT_PRESET)
    if args.config:
        cfg = load_config(args.config, base=cfg)
    overrides = data_overrides(args.data) if args.data else []
    if args.name:
        overrides.append(f"name={toml_value(args.name)}")
    return apply_overrides(cfg, overrides + list(args.set or []))


def resume_config(args: argparse.Namespace) -> RunConfig:
    """The config a ``--resume`` continues with: the run's own, with the ``--set`` and ``--data``
    changes a resume accepts; anything else is refused by name (never silently ignored)."""
    from labbench.engine.resume import check_resume_changes
    from labbench.run_config import apply_overrides
    from labbench.runs import load_run_config

    given = [flag for flag, value in (("--preset", args.preset), ("--config", args.config), ("--name", args.name),
                                      ("--runs-dir", getattr(args, "runs_dir", None))) if value]
    if given:
        raise ConfigError(
            f"{', '.join(given)} cannot be used with --resume: a resumed run keeps its own folder and settings "
            f"({Path(args.resume) / 'config.toml'}). Change what a resume may change with --set "
            "(e.g. --set train.epochs=50), or start a new run"
        )
    cfg = load_run_config(args.resume)
    overrides = (data_overrides(args.data) if args.data else []) + list(args.set or [])
    resumed = apply_overrides(cfg, overrides)
    check_resume_changes(to_dict(cfg), to_dict(resumed), args.resume)
    return resumed


def add_config_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--preset", help=f"a preset shipped with labbench (default: {DEFAULT_PRESET}; labbench presets lists them)")
    p.add_argument("--config", help="a TOML config file merged over the preset")
    p.add_argument("--data", help="a source name (shapes, digits, cifar10 …) or a folder of images")
    p.add_argument("--name", help="a short name for the run folder")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override, e.g. --set method.temperature=0.2")


def split_names(text: str) -> list[str]:
    """``"a, b,,c"`` -> ``["a", "b", "c"]`` (comma-separated command-line lists)."""
    return [part.strip() for part in text.split(",") if part.strip()]


def at_least_one(text: str) -> int:
    """An argparse type: a whole number ≥ 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number ≥ 1 (got {text})")
    return value
