"""A folder of images as a dataset: layouts, awkward file systems, and the decode-once cache."""

import os

import pytest
import torch

from labbench.config import DataConfig
from labbench.data import decode, folder, load_split
from labbench.errors import DataError

COLOURS = {"cat": (200, 40, 40), "dog": (40, 200, 40), "emu": (40, 40, 200)}


def _cfg(root, **kw):
    return DataConfig(source="folder", root=str(root), image_size=kw.pop("image_size", 8),
                      num_images=kw.pop("num_images", 0), **kw)


def _classes(root, write_image, per_class=5):
    for name, colour in COLOURS.items():
        for i in range(per_class):
            write_image(root / name / f"{i}.png", colour=colour)


def test_subfolders_are_classes_sorted_by_name(tmp_path, write_image):
    _classes(tmp_path, write_image)
    split = load_split(_cfg(tmp_path, eval_fraction=0.4))
    assert split.train.class_names == ["cat", "dog", "emu"]
    assert (len(split.train), len(split.eval)) == (9, 6)
    assert torch.bincount(split.eval.labels).tolist() == [2, 2, 2]
    for part in (split.train, split.eval):
        for path, label, image in zip(part.paths, part.labels.tolist(), part.images, strict=True):
            assert os.path.basename(os.path.dirname(path)) == part.class_names[label]
            assert image[:, 0, 0].tolist() == list(COLOURS[part.class_names[label]])


def test_loose_images_make_an_unlabeled_set_found_recursively(tmp_path, write_noise):
    for i in range(4):
        write_noise(tmp_path / f"top{i}.png", seed=i)
        write_noise(tmp_path / "deeper" / "still" / f"low{i}.png", seed=10 + i)
    split = load_split(_cfg(tmp_path, eval_fraction=0.25))
    assert split.train.labels is None and split.eval.labels is None and split.train.class_names == []
    assert len(split.train) + len(split.eval) == 8
    assert any("still" in p for p in split.train.paths + split.eval.paths)


def test_train_and_test_folders_are_the_split(tmp_path, write_image):
    _classes(tmp_path / "train", write_image, per_class=4)
    _classes(tmp_path / "test", write_image, per_class=2)
    split = load_split(_cfg(tmp_path))
    assert (len(split.train), len(split.eval)) == (12, 6)
    assert all("/test/" in p for p in split.eval.paths)
    assert split.eval.class_names == ["cat", "dog", "emu"]
    assert torch.bincount(split.eval.labels).tolist() == [2, 2, 2]


def test_val_folder_is_the_eval_side_and_may_lack_classes(tmp_path, write_image):
    _classes(tmp_path / "Train", write_image, per_class=2)
    write_image(tmp_path / "val" / "emu" / "a.png")
    split = load_split(_cfg(tmp_path))
    assert (len(split.train), len(split.eval)) == (6, 1)
    assert split.eval.labels.tolist() == [2]


def test_only_image_extensions_count_in_any_case_and_hidden_files_are_ignored(tmp_path, write_image):
    write_image(tmp_path / "a.PNG")
    write_image(tmp_path / "b.JpEg", fmt="JPEG")
    write_image(tmp_path / ".hidden.png")
    write_image(tmp_path / ".thumbs" / "c.png")
    (tmp_path / "notes.txt").write_text("not an image")
    split = load_split(_cfg(tmp_path))
    names = sorted(os.path.basename(p) for p in split.train.paths + split.eval.paths)
    assert names == ["a.PNG", "b.JpEg"]


def test_a_folder_link_loop_ends(tmp_path, write_image):
    _classes(tmp_path, write_image, per_class=2)
    os.symlink(tmp_path, tmp_path / "cat" / "loop")
    files, _ = folder.find_images(str(tmp_path))
    assert len(files) == 6


def test_file_names_that_are_not_utf8_load(tmp_path, write_image):
    odd = os.fsdecode(b"caf\xe9-\xff.png")
    write_image(tmp_path / "cat" / odd)
    write_image(tmp_path / "cat" / "plain.png")
    write_image(tmp_path / "dog" / "a.png")
    write_image(tmp_path / "dog" / "b.png")
    split = load_split(_cfg(tmp_path, eval_fraction=0.5))
    paths = split.train.paths + split.eval.paths
    assert any(p.endswith(odd) for p in paths)
    assert not split.train.skipped


def test_unreadable_files_are_listed_and_the_rest_load(tmp_path, write_image):
    _classes(tmp_path, write_image, per_class=3)
    (tmp_path / "dog" / "broken.png").write_bytes(b"\x89PNG nonsense")
    split = load_split(_cfg(tmp_path, eval_fraction=0.3))
    skipped = split.train.skipped + split.eval.skipped
    assert [os.path.basename(p) for p, _ in skipped] == ["broken.png"]
    assert len(split.train) + len(split.eval) == 9


@pytest.mark.parametrize("case", ["missing", "empty", "unreadable", "unset"])
def test_nothing_to_load_is_a_data_error_naming_the_folder(tmp_path, case):
    root = tmp_path / "photos"
    if case != "missing":
        root.mkdir()
    if case == "unreadable":
        for i in range(3):
            (root / f"{i}.jpg").write_bytes(b"")
    cfg = _cfg(root) if case != "unset" else DataConfig(source="folder")
    with pytest.raises(DataError, match="data.root" if case == "unset" else str(root)):
        load_split(cfg)


def test_image_cap_takes_a_seeded_stratified_subset(tmp_path, write_image):
    _classes(tmp_path, write_image, per_class=10)
    a = load_split(_cfg(tmp_path, num_images=12, eval_fraction=0.25, seed=4))
    b = load_split(_cfg(tmp_path, num_images=12, eval_fraction=0.25, seed=4))
    assert (len(a.train), len(a.eval)) == (9, 3)
    assert torch.bincount(a.train.labels).tolist() == [3, 3, 3]
    assert a.train.paths == b.train.paths


def test_cache_dir_holds_a_memory_mapped_store_reused_without_decoding(tmp_path, write_noise, monkeypatch):
    for i in range(6):
        write_noise(tmp_path / "data" / f"{i}.png", seed=i)
    (tmp_path / "data" / "bad.png").write_bytes(b"broken")
    cfg = _cfg(tmp_path / "data", cache_dir=str(tmp_path / "cache"), eval_fraction=0.5)
    first = load_split(cfg)
    assert sorted(p.suffix for p in (tmp_path / "cache").iterdir()) == [".json", ".json", ".npy", ".npy"]

    decode._decode_once.cache_clear()

    def fail(*args):
        raise AssertionError("decoded again although the cache is valid")

    monkeypatch.setattr(decode, "decode_image", fail)
    again = load_split(cfg)
    assert torch.equal(first.train.images, again.train.images) and first.train.paths == again.train.paths
    assert again.train.skipped + again.eval.skipped == first.train.skipped + first.eval.skipped != []


def test_interrupted_decode_leaves_no_cache(tmp_path, write_noise, monkeypatch):
    for i in range(8):
        write_noise(tmp_path / "data" / f"{i}.png", seed=i)
    cfg = _cfg(tmp_path / "data", cache_dir=str(tmp_path / "cache"))
    real = decode.decode_image

    def interrupted(path, size):
        if path.endswith("5.png"):
            raise KeyboardInterrupt
        return real(path, size)

    monkeypatch.setattr(decode, "decode_image", interrupted)
    with pytest.raises(KeyboardInterrupt):
        load_split(cfg)
    assert list((tmp_path / "cache").iterdir()) == []
    monkeypatch.setattr(decode, "decode_image", real)
    assert len(load_split(cfg).train) > 0


def test_large_sets_are_cached_in_the_user_cache_folder_never_in_the_data_folder(tmp_path, write_noise, monkeypatch):
    monkeypatch.setattr(decode, "RAM_LIMIT", 0)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    data = tmp_path / "data"
    for i in range(4):
        write_noise(data / f"{i}.png", seed=i)
    before = sorted(p.name for p in data.iterdir())
    load_split(_cfg(data))
    assert sorted(p.name for p in data.iterdir()) == before, "nothing is written into the data folder"
    cached = tmp_path / "user-cache" / "labbench" / "decoded"
    assert decode.default_cache_dir() == cached
    assert any(p.suffix == ".npy" for p in cached.iterdir())
    decode._decode_once.cache_clear()
    again = load_split(_cfg(data))
    assert len(again.train) + len(again.eval) == 4


def test_too_few_readable_images_lists_the_skipped_ones_not_counting_them(tmp_path, write_image):
    write_image(tmp_path / "a.png")
    (tmp_path / "photo.jpg").write_text("a text file with an image's name")
    with pytest.raises(DataError, match=r"need at least 2 images.*\(found 1\); skipped .*photo\.jpg: not an image"):
        load_split(DataConfig(source="folder", root=str(tmp_path)))
