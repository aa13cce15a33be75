"""``labbench presets`` and ``labbench config``: what a run would be configured with."""

from __future__ import annotations

import argparse

from labbench.cli.common import add_config_args, build_config


def cmd_presets(args: argparse.Namespace) -> int:
    from labbench.run_config import load_preset, preset_names

    for name in preset_names():
        cfg = load_preset(name)
        print(f"{name:<15} method={cfg.method.name:<15} backbone={cfg.backbone.name:<9} data={cfg.data.source:<7} "
              f"epochs={cfg.train.epochs:<3} batch={cfg.train.batch_size}")
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    from labbench.run_config import dump_toml

    print(dump_toml(build_config(args)), end="")
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser("presets", help="list the presets")
    p.set_defaults(func=cmd_presets)

    p = sub.add_parser("config", help="print the resolved config as TOML (for torchrun or a later --config)")
    add_config_args(p)
    p.set_defaults(func=cmd_config)
