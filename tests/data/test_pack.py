"""``labbench data pack``: a folder written once as WebDataset tar shards plus an index."""

import io
import json
import tarfile

import numpy as np
import pytest
from PIL import Image

from labbench.data import pack as pack_module
from labbench.data.pack import pack_folder
from labbench.data.shards import EVAL, TRAIN, UNSPLIT, open_pack
from labbench.errors import DataError
from tests.conftest import write_photos


def _members(tar_path):
    with tarfile.open(tar_path) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}


def test_shards_are_plain_tars_holding_each_file_as_it_was_and_its_class(tmp_path):
    originals = write_photos(tmp_path / "photos", per_class=10)
    report = pack_folder(str(tmp_path / "photos"), tmp_path / "pack", shard_mb=0.05, threads=1)
    pack = open_pack(tmp_path / "pack")
    assert report.images == len(pack) == 20 and report.shards == len(pack.shards) > 1 and not report.skipped
    members = {}
    for shard in pack.shards:
        members.update(_members(tmp_path / "pack" / shard))
    by_name = {str(p.relative_to(tmp_path / "photos")): p.read_bytes() for p in originals}
    for row in range(len(pack)):
        key = f"{row:08d}"
        data = pack.read(row)
        assert data == members[f"{key}.jpg"] == by_name[pack.columns["name"][row]], "bytes stored, not re-encoded"
        assert int(members[f"{key}.cls"]) == pack.columns["label"][row]
        assert pack.class_names[pack.columns["label"][row]] == pack.columns["name"][row].split("/")[0]
    assert (pack.columns["side"] == UNSPLIT).all() and pack.columns["gpu_ready"].all()
    assert report.bytes == sum((tmp_path / "pack" / s).stat().st_size for s in pack.shards)


def test_images_are_written_in_a_shuffled_order_so_every_shard_mixes_the_classes(tmp_path):
    write_photos(tmp_path / "photos", classes=("a", "b", "c", "d"), per_class=10)
    pack_folder(str(tmp_path / "photos"), tmp_path / "pack", shard_mb=0.1, threads=1)
    pack = open_pack(tmp_path / "pack")
    labels, shard = pack.columns["label"], pack.columns["shard"]
    assert len(pack.shards) >= 2
    assert all(len(set(labels[shard == s])) >= 2 for s in range(len(pack.shards)))


def test_the_same_folder_packs_to_the_same_bytes(tmp_path):
    write_photos(tmp_path / "photos", per_class=5)
    for out in ("a", "b"):
        pack_folder(str(tmp_path / "photos"), tmp_path / out, shard_mb=0.05, threads=2)
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert files == sorted(p.name for p in (tmp_path / "b").iterdir())
    assert all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files)


def test_a_train_and_test_folder_keeps_its_split_in_the_index(tmp_path):
    write_photos(tmp_path / "photos", per_class=4, sides=("train", "test"))
    pack_folder(str(tmp_path / "photos"), tmp_path / "pack", threads=1)
    pack = open_pack(tmp_path / "pack")
    sides = pack.columns["side"]
    assert (sides == TRAIN).sum() == (sides == EVAL).sum() == 8
    assert {s.split("-")[0] for s in pack.shards} == {"train", "eval"}
    assert pack.class_names == ["cat", "dog"]


def test_unreadable_files_are_skipped_with_their_reason_and_listed_in_the_index(tmp_path):
    write_photos(tmp_path / "photos", per_class=3)
    (tmp_path / "photos" / "cat" / "empty.jpg").write_bytes(b"")
    (tmp_path / "photos" / "cat" / "text.jpg").write_bytes(b"not an image at all")
    whole = (tmp_path / "photos" / "dog" / "000.jpg").read_bytes()
    (tmp_path / "photos" / "dog" / "cut.jpg").write_bytes(whole[: len(whole) // 2])
    report = pack_folder(str(tmp_path / "photos"), tmp_path / "pack", threads=1)
    reasons = {path.rsplit("/", 1)[-1]: reason for path, reason in report.skipped}
    assert set(reasons) == {"empty.jpg", "text.jpg", "cut.jpg"}
    assert "empty" in reasons["empty.jpg"] and "not an image" in reasons["text.jpg"]
    assert "truncated" in reasons["cut.jpg"] or "damaged" in reasons["cut.jpg"]
    assert report.images == 6
    assert len(json.loads((tmp_path / "pack" / "index.json").read_text())["skipped"]) == 3


def test_exif_turned_and_non_jpeg_images_are_sized_upright_and_left_to_the_cpu_decoder(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90°: a 60×40 file shows as 40×60
    Image.new("RGB", (60, 40), (10, 200, 30)).save(folder / "turned.jpg", exif=exif)
    Image.new("RGB", (30, 20), (200, 10, 30)).save(folder / "flat.png")
    Image.new("CMYK", (25, 25)).save(folder / "print.jpg")
    pack_folder(str(folder), tmp_path / "pack", threads=1)
    pack = open_pack(tmp_path / "pack")
    rows = {name: i for i, name in enumerate(pack.columns["name"])}
    turned, flat, cmyk = rows["turned.jpg"], rows["flat.png"], rows["print.jpg"]
    assert (pack.columns["width"][turned], pack.columns["height"][turned]) == (40, 60)
    assert not pack.columns["gpu_ready"][[turned, flat, cmyk]].any()


def test_max_side_shrinks_larger_images_and_keeps_smaller_ones_as_they_are(tmp_path):
    paths = write_photos(tmp_path / "photos", per_class=6)
    pack_folder(str(tmp_path / "photos"), tmp_path / "pack", max_side=50, threads=1)
    pack = open_pack(tmp_path / "pack")
    originals = {str(p.relative_to(tmp_path / "photos")): p for p in paths}
    for row in range(len(pack)):
        w, h = int(pack.columns["width"][row]), int(pack.columns["height"][row])
        source = Image.open(originals[pack.columns["name"][row]])
        assert max(w, h) == min(50, max(source.size))
        with Image.open(io.BytesIO(pack.read(row))) as im:
            assert im.size == (w, h) and im.format == "JPEG"


def test_an_interrupted_pack_leaves_no_index_and_no_partial_shard(tmp_path, monkeypatch):
    write_photos(tmp_path / "photos", per_class=10)
    real, calls = pack_module._try_prepare, []

    def interrupted(path, max_side):
        calls.append(path)
        if len(calls) == 12:
            raise KeyboardInterrupt
        return real(path, max_side)

    monkeypatch.setattr(pack_module, "_try_prepare", interrupted)
    with pytest.raises(KeyboardInterrupt):
        pack_folder(str(tmp_path / "photos"), tmp_path / "pack", shard_mb=0.02, threads=1)
    left = sorted(p.name for p in (tmp_path / "pack").iterdir())
    assert "index.json" not in left and not any(name.endswith(".tmp") for name in left)
    with pytest.raises(DataError, match="not a packed set"):
        open_pack(tmp_path / "pack")


def test_a_pack_is_never_written_over_another_folder(tmp_path):
    write_photos(tmp_path / "photos", per_class=2)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(DataError, match="not empty"):
        pack_folder(str(tmp_path / "photos"), tmp_path / "busy")
    assert (tmp_path / "busy" / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("damage", ["missing", "truncated"])
def test_a_pack_with_a_missing_or_cut_shard_is_refused_naming_the_file(packed_photos, damage):
    pack = packed_photos()
    shard = sorted(pack.glob("*.tar"))[1]
    if damage == "missing":
        shard.unlink()
    else:
        shard.write_bytes(shard.read_bytes()[:1000])
    with pytest.raises(DataError, match=shard.name):
        open_pack(pack)


def test_the_index_offsets_and_sizes_are_consistent(packed_photos):
    pack = open_pack(packed_photos())
    for s in range(len(pack.shards)):
        rows = np.flatnonzero(pack.columns["shard"] == s)
        ends = pack.columns["offset"][rows] + pack.columns["length"][rows]
        assert ends.max() <= pack.shard_path(s).stat().st_size
