"""TensorBoard logs: tensorboard's own event reader finds the metrics.jsonl figures under the same names,
the projector holds each epoch's embeddings, and a missing tensorboard package is a clear config error."""

import sys
from pathlib import Path

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from labbench.run_config import RunConfig, apply_overrides
from labbench.engine import Trainer
from labbench.engine.tensorboard import TENSORBOARD_DIR, TensorBoardWriter, scalar_tags
from labbench.errors import ConfigError
from labbench.runs import read_metrics


@pytest.fixture(scope="module")
def logged_run(tmp_path_factory):
    cfg = apply_overrides(RunConfig(), [
        "data.image_size=16", "data.num_images=160", "backbone.name=cnn", "backbone.width=8",
        "train.batch_size=32", "train.epochs=2", "train.log_every_steps=1", "train.num_threads=1",
        "optim.name=sgd", "optim.lr=0.1", "optim.warmup_epochs=0", "method.projection_dim=16",
        "eval.max_bank=100", "eval.max_eval=32", "eval.knn_k=5", "eval.probe_images=0", "train.tensorboard=true",
    ])
    result = Trainer(cfg, runs_root=tmp_path_factory.mktemp("tb")).fit()
    assert result.status == "completed", result.message
    run = Path(result.run_dir)
    events = EventAccumulator(str(run / TENSORBOARD_DIR), size_guidance={"scalars": 0})
    events.Reload()
    return run, events


def test_every_metrics_record_number_is_a_scalar_under_the_same_name(logged_run):
    run, events = logged_run
    expected: dict[str, list[tuple[int, float]]] = {}
    for record in read_metrics(run):
        if record["kind"] in ("log", "checkpoint", "finished"):
            continue
        for tag, value in scalar_tags(record).items():
            expected.setdefault(tag, []).append((record.get("step", 0), value))
    assert {"step/loss", "step/lr", "step/images_per_sec", "epoch/knn_accuracy", "epoch/feature_std",
            "epoch/effective_rank", "reference/raw_pixels_knn", "reference/untrained_knn"} <= set(expected)
    assert set(events.Tags()["scalars"]) == set(expected)
    for tag, points in expected.items():
        logged = [(e.step, e.value) for e in events.Scalars(tag)]
        assert [s for s, _ in logged] == [s for s, _ in points], tag
        assert [v for _, v in logged] == pytest.approx([v for _, v in points], rel=1e-6), tag  # float32 in the file


def test_projector_holds_each_epochs_embeddings_with_labels_and_thumbnails(logged_run):
    run, _ = logged_run
    log_dir = run / TENSORBOARD_DIR
    config = (log_dir / "projector_config.pbtxt").read_text()
    epoch_steps = [r["step"] for r in read_metrics(run) if r["kind"] == "epoch"]
    assert config.count("embeddings {") == len(epoch_steps) == 2
    for step in epoch_steps:
        folder = log_dir / f"{step:05d}" / "embeddings"
        rows = (folder / "tensors.tsv").read_text().splitlines()
        labels = (folder / "metadata.tsv").read_text().splitlines()
        assert len(rows) == len(labels) > 0
        assert len(rows[0].split("\t")) == 8 * 8  # the CNN's feature size at width 8
        assert set(labels) <= {"circle", "ellipse", "ring", "triangle", "square", "star", "cross", "crescent",
                               "heart", "arrow"}
        assert (folder / "sprite.png").stat().st_size > 0


def test_flags_text_and_positions_are_not_curves():
    record = {"kind": "step", "step": 5, "epoch": 0, "total_steps": 9, "loss": 1.5, "momentum": None,
              "metrics": {"pos_sim": 0.25, "flag": True}, "message": "x"}
    assert scalar_tags(record) == {"step/loss": 1.5, "step/metrics/pos_sim": 0.25}


def test_without_the_tensorboard_package_the_error_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # as if tensorboard were not installed
    with pytest.raises(ConfigError, match=r"train.tensorboard.*ssl-labbench\[tensorboard\]"):
        TensorBoardWriter(tmp_path)
