"""The labbench command: train headless, list runs, clear config errors."""

from labbench.cli import main
from labbench.cli.progress import format_eta

TINY = [
    "--set", "data.image_size=16", "--set", "data.num_images=96", "--set", "backbone.width=8",
    "--set", "train.batch_size=32", "--set", "train.epochs=1", "--set", "eval.max_bank=50", "--set", "eval.max_eval=16",
]


def test_train_writes_a_run_folder_and_runs_lists_it(tmp_path, capsys):
    assert main(["train", "--preset", "simclr", "--data", "shapes", "--name", "cli", "--runs-dir", str(tmp_path), *TINY]) == 0
    err = capsys.readouterr().err
    assert "k-NN" in err and "run folder:" in err
    epoch_line = next(line for line in err.splitlines() if line.startswith("epoch"))
    assert "· raw pixels" in epoch_line and "· untrained" in epoch_line  # what the k-NN figure must beat
    (run,) = tmp_path.iterdir()
    assert run.name.endswith("-simclr-cli") and (run / "checkpoints" / "last.pt").is_file()
    assert main(["runs", "--runs-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert run.name in out and "completed" in out and "raw pixels" in out and "untrained" in out


def test_config_error_names_the_field_and_exits_2(tmp_path, capsys):
    assert main(["train", "--runs-dir", str(tmp_path), "--set", "method.temperature=-1"]) == 2
    assert "method.temperature" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_config_prints_resolved_toml(capsys):
    assert main(["config", "--preset", "simclr", "--set", "train.epochs=3"]) == 0
    out = capsys.readouterr().out
    assert "[train]" in out and "epochs = 3" in out


def test_folder_argument_selects_folder_source(tmp_path, capsys):
    from PIL import Image

    for cls in ("a", "b"):
        (tmp_path / "imgs" / cls).mkdir(parents=True)
        for i in range(24):
            Image.new("RGB", (20, 20), (i * 10, 0 if cls == "a" else 200, 50)).save(tmp_path / "imgs" / cls / f"{i}.png")
    args = ["config", "--data", str(tmp_path / "imgs")]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert 'source = "folder"' in out and str(tmp_path / "imgs") in out


def test_eta_reads_as_clock_time_in_the_terminal_and_the_window():
    assert format_eta(75) == "1:15"
    assert format_eta(3725) == "1:02:05"
