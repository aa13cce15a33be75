"""Every registered method, fresh and tiny, goes through the probes and the affinity matrix."""

import pytest

from labbench.data import load_split
from labbench.errors import ConfigError
from labbench.evaluate.affinity import affinity_matrix
from labbench.evaluate.probes import ProbeSet, probe_arrays
from labbench.methods import METHODS, build_method
from labbench.run_config import RunConfig, apply_overrides

BACKBONES = (["backbone.name=cnn", "backbone.width=8"],
             ["backbone.name=vit_tiny", "backbone.patch_size=4", "backbone.depth=1"])


def _tiny(name: str):
    """The method on the first backbone it accepts, its heads shrunk: every ``*_dim``/``*_width`` of its
    config to 32, every ``*_depth`` to 1."""
    dims = [f"method.{field}={1 if field.endswith('_depth') else 32}"
            for field, info in METHODS[name].Config.model_fields.items()
            if field.endswith(("_dim", "_width", "_depth")) and info.annotation in (int, int | None)]
    for backbone in BACKBONES:
        try:
            cfg = apply_overrides(RunConfig(), [f"method.name={name}", *dims, "data.image_size=16", *backbone])
            return build_method(cfg, dataset_size=48).eval()
        except ConfigError:
            continue
    raise AssertionError(f"{name} builds on none of the test backbones")


@pytest.fixture(scope="module")
def eval_set():
    return load_split(RunConfig(data={"image_size": 16, "num_images": 60}).data).eval


@pytest.mark.parametrize("name", sorted(METHODS))
def test_probes_and_affinity_work_for_every_method(name, eval_set):
    method = _tiny(name)
    arrays, metrics = probe_arrays(method, ProbeSet.choose(eval_set, 3, 0), 16, "cpu", epoch=1)
    assert arrays["images"].shape == (3, 16, 16, 3) and metrics["feature_std"] >= 0
    assert ("attention" in arrays) == method.backbone_cfg.is_vit
    assert ("reconstruction" in arrays) == hasattr(method, "reconstruct")
    assert affinity_matrix(method, eval_set.images, 4).similarity.shape == (8, 8)
