"""Whatever folder a person points the loader at, it either loads what can be read (naming what was
skipped and why) or says in one DataError what is wrong; it never crashes, hangs or allocates a bomb."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from labbench.config import DataConfig
from labbench.data import load_split
from labbench.data.decode import decode_files, decode_image
from labbench.errors import DataError
from tests.reliability.conftest import image_bytes, png_header_only, write


def folder_config(root: Path, **extra) -> DataConfig:
    return DataConfig(source="folder", root=str(root), image_size=16, num_images=0, **extra)


def good_images(root: Path, count: int = 6, prefix: str = "ok") -> None:
    for i in range(count):
        write(root / f"{prefix}{i}.png", image_bytes(seed=i))


def skipped_reasons(split) -> dict[str, str]:
    return {os.path.basename(p): reason for p, reason in split.train.skipped + split.eval.skipped}


def test_empty_folder_says_no_images_were_found(tmp_path):
    with pytest.raises(DataError, match="no images found"):
        load_split(folder_config(tmp_path))


def test_folder_of_non_images_says_no_images_were_found(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "table.csv").write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match=str(tmp_path)):
        load_split(folder_config(tmp_path))


def test_files_named_like_images_that_are_not_say_none_could_be_read(tmp_path):
    write(tmp_path / "a.png", b"this is not a png")
    write(tmp_path / "b.jpg", b"<html>nor a jpeg</html>")
    with pytest.raises(DataError, match="none of the .* could be read.*not an image"):
        load_split(folder_config(tmp_path))


def test_missing_folder_and_a_file_instead_of_a_folder_are_named(tmp_path):
    with pytest.raises(DataError, match="no such folder"):
        load_split(folder_config(tmp_path / "gone"))
    write(tmp_path / "x.png", image_bytes())
    with pytest.raises(DataError, match="not a folder"):
        load_split(folder_config(tmp_path / "x.png"))


def test_damaged_files_are_skipped_with_a_reason_and_the_rest_load(tmp_path):
    good_images(tmp_path)
    jpeg, png = image_bytes(fmt="JPEG", size=(64, 64)), image_bytes(size=(64, 64))
    write(tmp_path / "truncated.jpg", jpeg[: len(jpeg) // 2])
    write(tmp_path / "truncated.png", png[: len(png) // 2])
    corrupt = bytearray(png)
    corrupt[60:90] = b"\xff" * 30  # inside the pixel data: the zlib stream and CRC break
    write(tmp_path / "corrupt.png", bytes(corrupt))
    write(tmp_path / "header_only.jpg", jpeg[:20])
    write(tmp_path / "empty.png", b"")
    split = load_split(folder_config(tmp_path))
    reasons = skipped_reasons(split)
    assert len(split.train) + len(split.eval) == 6
    assert set(reasons) == {"truncated.jpg", "truncated.png", "corrupt.png", "header_only.jpg", "empty.png"}
    assert reasons["empty.png"] == "empty file (0 bytes)"
    assert all(reason for reason in reasons.values())


@pytest.mark.parametrize("mode", ["CMYK", "P", "I;16", "L", "RGBA"])
def test_every_colour_mode_decodes_to_rgb_uint8(tmp_path, mode):
    fmt = "JPEG" if mode == "CMYK" else "PNG"
    path = write(tmp_path / f"x.{fmt.lower()}", image_bytes(mode, fmt=fmt))
    pixels = decode_image(str(path), 16)
    assert pixels.shape == (3, 16, 16) and pixels.dtype.name == "uint8"


def test_transparent_pixels_become_white_not_black(tmp_path):
    from PIL import Image

    path = tmp_path / "clear.png"
    Image.new("RGBA", (8, 8), (0, 0, 0, 0)).save(path)
    assert (decode_image(str(path), 16) == 255).all()


def test_sixteen_bit_greys_keep_their_range(tmp_path):
    import numpy as np
    from PIL import Image

    path = tmp_path / "deep.png"
    Image.fromarray(np.full((8, 8), 65535, np.uint16)).save(path)
    assert (decode_image(str(path), 16) == 255).all()


def test_a_decompression_bomb_is_refused_without_allocating_it(tmp_path):
    good_images(tmp_path)
    write(tmp_path / "bomb.png", png_header_only(100_000, 100_000))  # 30 GB of RGB if decoded
    write(tmp_path / "big.png", png_header_only(12_000, 12_000))  # past PIL's warning limit only
    started = time.perf_counter()
    split = load_split(folder_config(tmp_path))
    reasons = skipped_reasons(split)
    assert time.perf_counter() - started < 10
    assert "decompression bomb" in reasons["bomb.png"]
    assert "decompression bomb" in reasons["big.png"]
    assert len(split.train) + len(split.eval) == 6


def test_images_smaller_than_the_image_size_are_scaled_up(tmp_path):
    for i, size in enumerate([(1, 1), (3, 5), (7, 2)]):
        write(tmp_path / f"tiny{i}.png", image_bytes(size=size, seed=i))
    decoded = decode_files(sorted(str(p) for p in tmp_path.iterdir()), 32)
    assert tuple(decoded.images.shape) == (3, 3, 32, 32) and not decoded.skipped


def test_one_class_folder_loads_as_unlabelled(tmp_path):
    good_images(tmp_path / "cats")
    split = load_split(folder_config(tmp_path))
    assert split.train.labels is None and len(split.train) + len(split.eval) == 6


def test_one_image_is_a_clear_error_not_a_crash(tmp_path):
    good_images(tmp_path, count=1)
    with pytest.raises(DataError, match="at least 2 images"):
        load_split(folder_config(tmp_path))


def test_one_image_per_class_still_loads(tmp_path):
    for name in ("a", "b", "c"):
        good_images(tmp_path / name, count=1, prefix=name)
    split = load_split(folder_config(tmp_path, eval_fraction=0.5))
    assert len(split.train) >= 1 and len(split.eval) >= 1


def test_unreadable_entries_are_skipped_without_blocking(tmp_path, deadline):
    """Root reads any file, so the unreadable cases are ones root cannot read either."""
    good_images(tmp_path)
    os.mkfifo(tmp_path / "pipe.png")  # opening it would wait forever for a writer
    (tmp_path / "folder.jpg").mkdir()  # a directory named like an image
    os.symlink(tmp_path / "nowhere.png", tmp_path / "dangling.png")
    os.symlink("self.png", tmp_path / "self.png")  # a link to itself: ELOOP
    deadline(20)
    split = load_split(folder_config(tmp_path))
    reasons = skipped_reasons(split)
    assert len(split.train) + len(split.eval) == 6
    assert {"pipe.png", "dangling.png", "self.png"} <= set(reasons)
    assert "not found" in reasons["dangling.png"]


def test_symlink_loops_end(tmp_path, deadline):
    good_images(tmp_path / "a")
    os.symlink(tmp_path, tmp_path / "a" / "up")  # a -> root -> a -> …
    os.symlink(tmp_path / "a", tmp_path / "a" / "here")
    deadline(20)
    split = load_split(folder_config(tmp_path))
    assert len(split.train) + len(split.eval) == 6


def test_non_utf8_file_names_load_and_are_reported_readably(tmp_path):
    good_images(tmp_path, count=4)
    raw = os.fsencode(tmp_path)
    with open(raw + b"/caf\xe9.png", "wb") as f:  # Latin-1 é: not valid UTF-8
        f.write(image_bytes(seed=9))
    with open(raw + b"/broken\xff.png", "wb") as f:
        f.write(b"nope")
    split = load_split(folder_config(tmp_path))
    assert len(split.train) + len(split.eval) == 5
    (path, reason), = split.train.skipped + split.eval.skipped
    assert "broken" in path and reason
