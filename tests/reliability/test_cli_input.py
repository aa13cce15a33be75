"""Issue #15, defects 10 and 12: careless input gets a message, not a traceback — seeds beyond their
range, more memory than there is, impossible evaluation options, odd characters in a data path, and
a data path that is the whole disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from labbench.cli import main
from labbench.run_config import load_config

from tests.reliability.conftest import TINY_SETS, image_folder


def test_a_seed_beyond_64_bits_is_a_config_error(tmp_path, capsys):
    assert main(["train", "--runs-dir", str(tmp_path), *TINY_SETS, "--set", "train.seed=18446744073709551616"]) == 2
    assert "train.seed: Input should be less than or equal to 2147483647" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_a_data_set_larger_than_memory_is_refused_before_decoding(tmp_path, capsys, monkeypatch):
    import labbench.engine.footprint as footprint

    monkeypatch.setattr(footprint, "available_memory", lambda device=None: 500_000_000)
    assert main(["train", "--runs-dir", str(tmp_path), *TINY_SETS, "--set", "data.num_images=6000",
                 "--set", "data.image_size=512"]) == 1
    err = capsys.readouterr().err
    assert "data: shapes at 512 px needs 6.3 GB of memory once decoded, but 500.0 MB are available" in err
    assert "lower data.image_size (at most about 144 px fits), or data.num_images (now 6000)" in err


def test_a_batch_too_large_for_memory_is_refused_with_the_batch_that_fits(tmp_path, capsys, monkeypatch):
    import labbench.engine.footprint as footprint

    monkeypatch.setattr(footprint, "available_memory", lambda device=None: 40_000_000)
    assert main(["train", "--runs-dir", str(tmp_path), *TINY_SETS, "--set", "data.image_size=64",
                 "--set", "data.num_images=300", "--set", "train.batch_size=128"]) == 1
    err = capsys.readouterr().err
    assert "train.batch_size: a step of 128 images at 64 px needs about" in err
    assert "lower train.batch_size to" in err


@pytest.mark.parametrize("args, message", [
    (["--finetune-epochs", "-1"], "argument --finetune-epochs: must be a whole number ≥ 1 (got -1)"),
    (["--device", "tpu"], "argument --device: invalid choice: 'tpu'"),
    (["--max-train", "0"], "argument --max-train: must be a whole number ≥ 1 (got 0)"),
])
def test_impossible_evaluation_options_are_usage_errors(tmp_path, capsys, args, message):
    with pytest.raises(SystemExit) as exited:
        main(["eval", str(tmp_path), *args])
    assert exited.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.parametrize("name", ["it's \"quoted\"", "back\\slash", "tab\there", "new\nline"])
def test_a_data_folder_with_quotes_backslashes_tabs_or_newlines_in_its_path(tmp_path, name, capsys):
    data = image_folder(tmp_path / name, per_class=20)
    assert main(["train", "--runs-dir", str(tmp_path / "runs"), *TINY_SETS, "--data", str(data)]) == 0
    (run,) = (tmp_path / "runs").iterdir()
    assert load_config(run / "config.toml").data.root == str(data)


def test_the_whole_disk_as_data_is_refused_at_once(tmp_path, capsys):
    assert main(["train", "--runs-dir", str(tmp_path), *TINY_SETS, "--data", "/"]) == 2
    assert "/: the root of the file system — labbench would read every image under it" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_a_tree_of_mostly_other_files_is_refused_not_walked(tmp_path, capsys, monkeypatch):
    import labbench.data.folder as folder

    monkeypatch.setattr(folder, "MAX_OTHER_FILES", 50)
    tree = image_folder(tmp_path / "home", per_class=2)
    for i in range(60):
        (tree / f"notes-{i}.txt").write_text("not an image")
    assert main(["train", "--runs-dir", str(tmp_path / "runs"), *TINY_SETS, "--data", str(tree)]) == 1
    err = capsys.readouterr().err
    assert "stopped looking after 51 files that are not images (0 images so far)" in err
    assert "Traceback" not in err and Path(tmp_path / "runs").exists()
