"""``labbench data pack``: a folder packed from the command line, then trained on by naming the pack."""

import json

from labbench.cli import main
from tests.conftest import write_photos


def test_pack_writes_shards_reports_them_and_lists_skipped_files(tmp_path, capsys):
    write_photos(tmp_path / "photos", per_class=6)
    (tmp_path / "photos" / "cat" / "broken.jpg").write_bytes(b"\xff\xd8 not really")
    assert main(["data", "pack", str(tmp_path / "photos"), str(tmp_path / "pack"), "--shard-mb", "0.02"]) == 0
    captured = capsys.readouterr()
    assert "skipped" in captured.err and "broken.jpg" in captured.err
    assert "packed 12 images" in captured.out and str(tmp_path / "pack") in captured.out
    meta = json.loads((tmp_path / "pack" / "index.json").read_text())
    assert meta["images"] == 12 and len(meta["shards"]) == len(list((tmp_path / "pack").glob("*.tar"))) > 1


def test_pack_into_a_folder_that_holds_files_is_refused_with_exit_2(tmp_path, capsys):
    write_photos(tmp_path / "photos", per_class=2)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    assert main(["data", "pack", str(tmp_path / "photos"), str(tmp_path / "out")]) == 2
    assert "not empty" in capsys.readouterr().err and (tmp_path / "out" / "keep.txt").read_text() == "mine"


def test_a_pack_given_as_data_is_trained_on_as_shards(tmp_path, capsys):
    write_photos(tmp_path / "photos", per_class=12)
    assert main(["data", "pack", str(tmp_path / "photos"), str(tmp_path / "pack"), "--shard-mb", "0.02"]) == 0
    args = ["train", "--data", str(tmp_path / "pack"), "--runs-dir", str(tmp_path / "runs"), "--set", "data.num_images=0",
            "--set", "data.store=stream", "--set", "data.workers=0", "--set", "data.image_size=16",
            "--set", "backbone.name=cnn", "--set", "backbone.width=8", "--set", "train.batch_size=8",
            "--set", "train.epochs=1", "--set", "eval.max_bank=10", "--set", "eval.max_eval=10",
            "--set", "eval.knn_k=3", "--set", "train.device=cpu"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "data: shards" in err and "streamed from" in err
