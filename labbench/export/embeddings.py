"""Embeddings for other tools: a TensorBoard projector bundle and plain ``.npy`` / ``.csv`` files.

The projector bundle is what projector.tensorflow.org and TensorBoard read: ``tensors.tsv`` (one
vector a line), ``metadata.tsv`` (a header, then label and class a line), ``sprite.png`` (the
thumbnails in one square grid, row-major) and ``projector_config.pbtxt`` tying them together.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np
from PIL import Image
from torch import Tensor

from labbench.atomic import atomic_write, atomic_write_bytes, atomic_write_text

#: TensorBoard's projector reads sprites up to 8192 px a side
MAX_SPRITE_SIDE = 8192


def sprite(images: Tensor | np.ndarray, max_side: int = MAX_SPRITE_SIDE) -> tuple[np.ndarray, int]:
    """uint8 N×3×H×W images as one square grid (row-major, empty cells black) and the cell size in px."""
    images = np.asarray(images)
    n, _, h, w = images.shape
    cols = max(1, math.ceil(math.sqrt(n)))
    cell = max(1, min(h, w, max_side // cols))
    grid = np.zeros((cols * cell, cols * cell, 3), dtype=np.uint8)
    for i, image in enumerate(images):
        thumb = Image.fromarray(np.ascontiguousarray(image.transpose(1, 2, 0))).resize((cell, cell), Image.BILINEAR)
        r, c = divmod(i, cols)
        grid[r * cell : (r + 1) * cell, c * cell : (c + 1) * cell] = np.asarray(thumb)
    return grid, cell


def _class_name(label: int, class_names: list[str] | None) -> str:
    # a tab or newline would break the TSV's columns
    name = class_names[label] if class_names and 0 <= label < len(class_names) else str(int(label))
    return " ".join(name.split())


def _tsv(rows: np.ndarray) -> str:
    return "".join("\t".join(f"{v:.6g}" for v in row) + "\n" for row in rows)


def export_embeddings(
    features: Tensor | np.ndarray,
    out_dir: str | Path,
    *,
    labels: Tensor | np.ndarray | None = None,
    images: Tensor | np.ndarray | None = None,
    class_names: list[str] | None = None,
    tensor_name: str = "labbench",
) -> dict[str, Path]:
    """Write the projector bundle and ``embeddings.npy`` / ``labels.npy`` / ``embeddings.csv`` into
    ``out_dir`` (atomically, file by file); return them by name."""
    out = Path(out_dir)
    feats = np.asarray(features, dtype=np.float32)
    n = len(feats)
    labs = None if labels is None else np.asarray(labels, dtype=np.int64)
    written: dict[str, Path] = {}

    written["tensors.tsv"] = atomic_write_text(out / "tensors.tsv", _tsv(feats))
    label_text = [""] * n if labs is None else [str(int(v)) for v in labs]
    names = [_class_name(v, class_names) for v in labs] if labs is not None else [""] * n
    meta = "index\tlabel\tclass\n" + "".join(f"{i}\t{label_text[i]}\t{names[i]}\n" for i in range(n))
    written["metadata.tsv"] = atomic_write_text(out / "metadata.tsv", meta)
    config = [f'embeddings {{\n  tensor_name: "{tensor_name}"\n  tensor_path: "tensors.tsv"\n  metadata_path: "metadata.tsv"\n']
    if images is not None:
        grid, cell = sprite(images)
        buffer = io.BytesIO()
        Image.fromarray(grid).save(buffer, format="PNG")
        written["sprite.png"] = atomic_write_bytes(out / "sprite.png", buffer.getvalue())
        config.append(f'  sprite {{\n    image_path: "sprite.png"\n    single_image_dim: {cell}\n    single_image_dim: {cell}\n  }}\n')
    config.append("}\n")
    written["projector_config.pbtxt"] = atomic_write_text(out / "projector_config.pbtxt", "".join(config))

    written["embeddings.npy"] = atomic_write(out / "embeddings.npy", lambda f: np.save(f, feats))
    if labs is not None:
        written["labels.npy"] = atomic_write(out / "labels.npy", lambda f: np.save(f, labs))
    table = io.StringIO()
    writer = csv.writer(table, lineterminator="\n")
    writer.writerow(["index", "label", "class", *(f"f{j}" for j in range(feats.shape[1]))])
    writer.writerows([i, label_text[i], names[i], *(f"{v:.6g}" for v in feats[i])] for i in range(n))
    written["embeddings.csv"] = atomic_write_text(out / "embeddings.csv", table.getvalue())
    return written
