"""Tiny studies for the tests: runs of a few steps on 120 shapes at 16 px, measured in a second or two.

The test modules import these helpers (``from tests.studies.conftest import ...``).
"""

from __future__ import annotations

from pathlib import Path

TINY_BASE = """
[base]
preset = "simclr"
[base.set]
"data.image_size" = 16
"data.num_images" = 120
"backbone.width" = 8
"train.batch_size" = 32
"train.num_threads" = 1
"train.device" = "cpu"
"train.log_every_steps" = 1
"optim.name" = "sgd"
"optim.warmup_epochs" = 0
"eval.max_bank" = 96
"eval.max_eval" = 24
"eval.knn_k" = 5
"eval.probe_images" = 0
"method.projection_dim" = 16
"""

TWO_BY_TWO = f"""
title = "tiny 2 × 2"
claim = "a warmer temperature helps"
figure = "made up for the test"
measures = ["knn", "linear_z"]
budget = {{ epochs = 1 }}
{TINY_BASE}
[[axes]]
name = "tau"
key = "method.temperature"
values = [0.1, 0.5]

[[axes]]
name = "head"
key = "method.head"
values = ["mlp", "none"]

[[expect]]
higher = {{ tau = 0.5, head = "mlp" }}
than = {{ tau = 0.1, head = "mlp" }}
"""


def write_study(folder: Path, text: str = TWO_BY_TWO, name: str = "tiny") -> Path:
    path = folder / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path
