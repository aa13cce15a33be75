"""The ``shards`` source (labbench/data/packed.py): a pack read as a split, its training side streamed or decoded by size."""

import pytest
import torch

from labbench.config import DataConfig
from labbench.data import decode, folder_source, load_split, packed
from labbench.data.decode import decode_image
from labbench.data.shards import open_pack
from labbench.errors import ConfigError, DataError


def _cfg(pack, **kw) -> DataConfig:
    return DataConfig(source="shards", root=str(pack), image_size=24, **{"num_images": 0, **kw})


def test_a_packed_folder_is_split_as_the_folder_source_splits_it(packed_photos, tmp_path):
    pack = packed_photos(per_class=10)
    split = load_split(_cfg(pack, eval_fraction=0.25, seed=3))
    as_folder = load_split(DataConfig(source="folder", root=str(tmp_path / "photos"), image_size=24, num_images=0,
                                      eval_fraction=0.25, seed=3))
    assert (len(split.train), len(split.eval)) == (15, 5)
    assert split.train.class_names == as_folder.train.class_names == ["cat", "dog"]
    assert torch.bincount(split.train.labels).tolist() == torch.bincount(as_folder.train.labels).tolist()
    capped = load_split(_cfg(pack, num_images=8))
    assert len(capped.train) + len(capped.eval) == 8


def test_train_and_test_folders_stay_the_split(packed_photos):
    split = load_split(_cfg(packed_photos(per_class=4, sides=("train", "test"))))
    assert (len(split.train), len(split.eval)) == (8, 8)
    assert all(p.startswith("train/") for p in split.train.paths) and all(p.startswith("test/") for p in split.eval.paths)


def test_a_small_pack_is_decoded_into_the_store_and_a_large_one_streamed(packed_photos, monkeypatch):
    pack = packed_photos(per_class=6)
    small = load_split(_cfg(pack))
    assert not small.train.streamed and isinstance(small.train.images, torch.Tensor)
    monkeypatch.setattr(packed, "STREAM_ABOVE_BYTES", 0)
    large = load_split(_cfg(pack))
    assert large.train.streamed and not large.eval.streamed, "the eval side is always decoded"
    assert torch.equal(large.train.images[:], small.train.images), "both read the same pixels"
    assert not load_split(_cfg(pack, store="uint8")).train.streamed, "data.store overrides the size rule"
    assert load_split(_cfg(pack.parent / "pack", store="stream")).train.streamed


def test_streamed_images_decode_as_the_store_would_hold_them(packed_photos, tmp_path):
    pack = packed_photos(per_class=5)
    train = load_split(_cfg(pack, store="stream")).train
    images = train.images
    first = images[0]
    assert first.shape == (3, 24, 24) and first.dtype == torch.uint8
    original = tmp_path / "photos" / train.paths[0]
    assert torch.equal(first, torch.from_numpy(decode_image(str(original), 24).copy()))
    assert torch.equal(images[1:4], torch.stack([images[1], images[2], images[3]]))
    assert torch.equal(images[torch.tensor([2, 0])], torch.stack([images[2], first]))
    mask = torch.zeros(len(images), dtype=torch.bool)
    mask[[1, 3]] = True
    assert torch.equal(images[mask], images[torch.tensor([1, 3])])


def test_subsets_of_a_streamed_set_stay_encoded_until_read(packed_photos):
    train = load_split(_cfg(packed_photos(per_class=5), store="stream")).train
    part = train.subset(torch.tensor([3, 1]))
    assert part.streamed and len(part) == 2 and part.paths == [train.paths[3], train.paths[1]]
    assert part.labels.tolist() == train.labels[[3, 1]].tolist()
    assert torch.equal(part.images[:], train.images[torch.tensor([3, 1])])
    assert train.labeled() is train


def test_a_folder_is_never_streamed_it_must_be_packed_first(tmp_path):
    with pytest.raises(ConfigError, match="labbench data pack"):
        load_split(DataConfig(source="folder", root=str(tmp_path), store="stream"))


def test_a_folder_that_is_a_pack_is_read_as_shards(packed_photos, tmp_path):
    pack = packed_photos(per_class=2)
    assert folder_source(pack) == "shards" and folder_source(tmp_path / "photos") == "folder"


def test_decoded_sides_are_cached_in_the_user_cache_folder_not_beside_the_pack(packed_photos, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    monkeypatch.setattr(decode, "RAM_LIMIT", 0)
    pack = packed_photos(per_class=4)
    before = sorted(p.name for p in pack.iterdir())
    first = load_split(_cfg(pack))
    assert sorted(p.name for p in pack.iterdir()) == before
    cached = list((tmp_path / "user-cache" / "labbench" / "decoded").glob("*.npy"))
    assert len(cached) == 2
    decode._decode_once.cache_clear()
    assert torch.equal(load_split(_cfg(pack)).eval.images, first.eval.images)


def test_a_damaged_shard_is_reported_by_name_with_what_to_do(packed_photos):
    pack = packed_photos(per_class=4)
    train = load_split(_cfg(pack, store="stream")).train
    opened = open_pack(pack)
    row = int(train.images.rows[0])
    shard = opened.shard_path(int(opened.columns["shard"][row]))
    data = bytearray(shard.read_bytes())
    start = int(opened.columns["offset"][row])
    data[start : start + int(opened.columns["length"][row])] = b"\0" * int(opened.columns["length"][row])
    shard.write_bytes(bytes(data))
    fresh = load_split(_cfg(pack, store="stream")).train
    with pytest.raises(DataError, match=rf"{shard.name}.*pack the folder again"):
        fresh.images[0]


def test_a_folder_without_an_index_is_not_taken_for_a_pack(tmp_path):
    with pytest.raises(DataError, match="labbench data pack"):
        load_split(DataConfig(source="shards", root=str(tmp_path)))
    with pytest.raises(DataError, match="data.root"):
        load_split(DataConfig(source="shards"))
