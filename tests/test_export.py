"""Encoder export: every format reloads within 1e-4 of the live encoder, the card says how to use it,
a ResNet loads into torchvision without labbench, unsafe files and names are refused, CLI end to end."""

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import labbench
from labbench.cli import main
from labbench.engine import Trainer
from labbench.engine.checkpointed import load_run_method
from labbench.errors import CheckpointError, ConfigError
from labbench.export import FORMATS, TOLERANCE, export_run, load_encoder
from labbench.run_config import RunConfig, apply_overrides, config_hash

TINY = ["data.image_size=16", "data.num_images=120", "train.batch_size=16", "train.epochs=1", "train.max_steps=2",
        "train.num_threads=1", "optim.name=sgd", "optim.lr=0.05", "optim.warmup_epochs=0", "eval.max_bank=40",
        "eval.max_eval=16", "eval.knn_k=3", "eval.probe_images=0", "method.projection_dim=16"]
BACKBONES = {
    "cnn": ["backbone.name=cnn", "backbone.width=8"],
    "resnet18": ["backbone.name=resnet18"],
    "vit": ["backbone.name=vit_tiny", "backbone.patch_size=4", "backbone.depth=2"],
}


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """``exports(backbone)``: a few real SimCLR steps on that backbone, exported to every format (made once)."""
    made = {}

    def get(backbone: str):
        if backbone not in made:
            root = tmp_path_factory.mktemp(backbone)
            result = Trainer(apply_overrides(RunConfig(), TINY + BACKBONES[backbone]), runs_root=root).fit()
            assert result.status == "completed", result.message
            run = Path(result.run_dir)
            made[backbone] = run, export_run(run, root / "out")
        return made[backbone]

    return get


def _sample(run, n=5):
    cfg = load_run_method(run)[1]
    return torch.randn(n, 3, cfg.data.image_size, cfg.data.image_size, generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("backbone", list(BACKBONES))
def test_every_format_reloads_within_tolerance_of_the_live_encoder(exports, backbone):
    run, result = exports(backbone)
    assert set(result.files) == set(FORMATS)
    live = load_run_method(run)[0].encoder
    x = _sample(run)
    for fmt, path in result.files.items():
        model, card = load_encoder(path)
        with torch.no_grad():
            assert (model(x) - live(x)).abs().max() < TOLERANCE, fmt
        assert card["feature_dim"] == live.feature_dim and result.max_abs_diff[fmt] < TOLERANCE


def test_card_describes_the_encoder_its_input_and_the_checks(exports):
    run, result = exports("cnn")
    card = json.loads(result.card_path.read_text())
    method, config = load_run_method(run)
    assert card["method"] == "simclr" and card["backbone"]["arch_kwargs"] == method.encoder.arch_kwargs()
    assert card["input"]["shape"] == [None, 3, 16, 16] and card["input"]["mean"] == [0.485, 0.456, 0.406]
    assert card["config_hash"] == config_hash(config) and card["run"] == run.name
    assert set(card["files"]) == set(FORMATS) and all(f["max_abs_diff"] < TOLERANCE for f in card["files"].values())
    # heads are dropped: the .pt holds the encoder's weights only
    keys = torch.load(result.files["pt"], weights_only=True).keys()
    assert set(keys) == set(method.encoder.state_dict()) and not any("projection" in k for k in keys)


def test_resnet_export_loads_into_torchvision_without_labbench(exports, tmp_path):
    run, result = exports("resnet18")
    card = json.loads(result.card_path.read_text())
    x = _sample(run, 3)
    np.save(tmp_path / "x.npy", x.numpy())
    code = card["torchvision"]["code"].replace("ENCODER.pt", str(result.files["pt"])) + (
        f"\nimport numpy as np\nmodel.eval()\nx = torch.from_numpy(np.load({str(tmp_path / 'x.npy')!r}))\n"
        f"np.save({str(tmp_path / 'y.npy')!r}, model(x).detach().numpy())\n"
        "import sys\nassert 'labbench' not in sys.modules\n"
    )
    env = {**os.environ, "PYTHONPATH": ""}
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path, env=env)
    with torch.no_grad():
        expected = load_run_method(run)[0].encoder(x)
    assert np.abs(np.load(tmp_path / "y.npy") - expected.numpy()).max() < TOLERANCE
    assert any("small (CIFAR) stem" in change for change in card["torchvision"]["changes"])


class _RunsCode:
    def __reduce__(self):
        return (os.system, ("echo pwned > pwned.txt",))


def test_a_pickle_that_would_run_code_is_refused(tmp_path):
    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps({"weight": _RunsCode()}, protocol=2))
    (tmp_path / "evil.card.json").write_text("{}")
    with pytest.raises(CheckpointError, match="refused"):
        labbench.load_encoder(path)
    assert not (tmp_path / "pwned.txt").exists() and not Path("pwned.txt").exists()


@pytest.mark.parametrize("name", ["../escape", "sub/encoder", "..", ".hidden", "a\\b"])
def test_names_that_could_leave_the_folder_are_refused(exports, tmp_path, name):
    run, _ = exports("cnn")
    with pytest.raises(ConfigError, match="export name"):
        export_run(run, tmp_path / "out", ["pt"], name=name)
    assert not (tmp_path / "escape.pt").exists() and not any(tmp_path.rglob("*.pt"))


def test_unknown_files_are_refused_by_name(tmp_path):
    with pytest.raises(CheckpointError, match="unknown export format"):
        load_encoder(tmp_path / "encoder.h5")
    (tmp_path / "broken.onnx").write_bytes(b"not onnx")
    with pytest.raises(CheckpointError, match="broken.onnx: not a readable ONNX file"):
        load_encoder(tmp_path / "broken.onnx")


def test_cli_export_writes_the_files_and_the_embeddings_bundle(exports, tmp_path, capsys):
    run, _ = exports("cnn")
    out = tmp_path / "cli"
    assert main(["export", str(run), "--formats", "pt,onnx", "--out", str(out), "--embeddings"]) == 0
    printed = capsys.readouterr().out
    assert "encoder.pt" in printed and "encoder.onnx" in printed and "max |diff|" in printed
    written = sorted(p.name for p in out.iterdir() if p.is_file() and p.name != ".lock")  # .lock: one writer at a time
    assert written == ["README.md", "encoder.card.json", "encoder.onnx", "encoder.pt"]
    bundle = out / "encoder-embeddings"
    names = {p.name for p in bundle.iterdir()}
    assert {"tensors.tsv", "metadata.tsv", "sprite.png", "projector_config.pbtxt", "embeddings.npy",
            "labels.npy", "embeddings.csv"} <= names
    features = np.load(bundle / "embeddings.npy")
    assert len((bundle / "tensors.tsv").read_text().splitlines()) == len(features)
    assert len((bundle / "metadata.tsv").read_text().splitlines()) == len(features) + 1  # a header line
    assert 'image_path: "sprite.png"' in (bundle / "projector_config.pbtxt").read_text()
    assert not list(out.rglob(".*.tmp"))


def test_card_carries_the_runs_evaluation_figures_when_it_has_them(exports, tmp_path):
    from labbench.scoring import evaluate_run

    run, _ = exports("cnn")
    scores = evaluate_run(run, ("knn",), device="cpu", baselines=False).scores
    card = export_run(run, tmp_path, ["safetensors"]).card
    assert card["evaluation"]["scores"]["knn"] == scores["knn"] and card["evaluation"]["dataset"] == "shapes"
    assert load_encoder(tmp_path / "encoder.safetensors")[1]["evaluation"] == card["evaluation"]


def test_a_run_whose_data_is_gone_still_exports_checked_on_random_inputs(exports, tmp_path):
    import shutil

    run, _ = exports("cnn")
    moved = tmp_path / "run"
    shutil.copytree(run, moved)
    config = (moved / "config.toml").read_text().replace('source = "shapes"', 'source = "folder"\nroot = "/nonexistent"')
    (moved / "config.toml").write_text(config)
    card = export_run(moved, tmp_path / "out", ["pt"]).card
    assert card["checked_on"] == "4 random normal inputs" and card["files"]["pt"]["max_abs_diff"] < TOLERANCE
