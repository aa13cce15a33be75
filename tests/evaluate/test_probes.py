"""Per-epoch probe files: attention maps (ViT), reconstructions (MAE), collapse numbers, atomically written."""

import numpy as np

from labbench.engine import Trainer
from labbench.engine.events import ProbeEvent
from labbench.evaluate.probes import list_probes, read_probes
from labbench.runs import load_run_config, read_metrics


def test_every_epoch_keeps_the_same_probe_images_and_their_attention(dino_run):
    probes = list_probes(dino_run)
    assert [epoch for epoch, _ in probes] == [1, 2]
    first, second = (read_probes(path) for _, path in probes)
    assert first["images"].shape == (4, 16, 16, 3) and first["images"].dtype == np.uint8
    assert np.array_equal(first["indices"], second["indices"]) and np.array_equal(first["images"], second["images"])
    assert first["masks"].shape == (4, 16, 16) and first["labels"].shape == (4,)
    assert first["attention"].shape == (4, 3, 4, 4) and (first["attention"] >= 0).all()
    assert "teacher_entropy" in first and first["positive_similarities"].ndim == 1
    assert not list((dino_run / "probes").glob(".*.tmp"))  # no half-written files left behind


def test_mae_probes_hold_reconstructions_that_keep_the_visible_pixels(mae_run):
    arrays = read_probes(list_probes(mae_run)[-1][1])
    assert arrays["reconstruction"].shape == arrays["pasted"].shape == (4, 16, 16, 3)
    visible = ~arrays["reconstruction_mask"]
    assert np.array_equal(arrays["pasted"][visible], arrays["images"][visible])
    assert arrays["reconstruction_loss"].shape == (4,)


def test_cnn_probes_have_collapse_numbers_but_no_attention(simclr_run):
    arrays = read_probes(list_probes(simclr_run)[0][1])
    assert "attention" not in arrays and "reconstruction" not in arrays
    assert float(arrays["feature_std"]) > 0 and float(arrays["effective_rank"]) >= 1


def test_probe_events_are_logged_and_the_latest_is_kept_on_the_trainer(simclr_run, tmp_path):
    records = [r for r in read_metrics(simclr_run) if r["kind"] == "probe"]
    assert [r["epoch"] for r in records] == [1, 2] and "alignment" in records[0]["metrics"]
    events = []
    config = load_run_config(simclr_run).model_copy(update={"name": "probes"})
    trainer = Trainer(config, [events.append], runs_root=tmp_path)
    trainer.fit()
    probe_events = [e for e in events if isinstance(e, ProbeEvent)]
    assert [e.epoch for e in probe_events] == [1, 2] and trainer.latest_probe == probe_events[-1]
    assert trainer.latest_probe.path.endswith("probes/epoch-0002.npz")


def test_no_probe_images_means_no_probe_files(simclr_run, tmp_path):
    config = load_run_config(simclr_run).model_copy(update={"name": "no-probes"})
    config.eval.probe_images = 0
    trainer = Trainer(config, runs_root=tmp_path)
    trainer.fit()
    assert trainer.latest_probe is None and not (trainer.run_dir / "probes").exists()
