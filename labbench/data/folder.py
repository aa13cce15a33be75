"""A folder of images: one subfolder per class, a loose (unlabeled) collection, or ``train/`` and
``test/`` (or ``val/``) folders that are then the split.

The file list is split (and capped) before anything is decoded; each side is then decoded once, in
RAM when small and into a memory-mapped cache (in the user's cache folder, or ``data.cache_dir``) when
large or when ``data.cache_dir`` is set. Folders are never streamed: ``labbench data pack`` makes shards that are.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
from torch import Tensor

from labbench.config import DataConfig
from labbench.data.decode import IMAGE_EXTENSIONS, cache_dir_for, decode_files
from labbench.data.split import holdout_index, holdout_split, official_cap
from labbench.data.store import ImageSet, Split
from labbench.errors import DataError

SPLIT_FOLDERS = ("train", "val", "test")
#: a walk that meets more files than this that are not images (and more of them than images) is in a
#: system or home folder, not an image set: it stops instead of reading the whole disk
MAX_OTHER_FILES = 100_000


def check_image_root(root: str) -> None:
    """Refuse the file system's root and the home folder: every icon and download under them would
    become a training image (``--data /`` must not walk the whole disk)."""
    real = os.path.realpath(root)
    for place, what in ((os.path.abspath(os.sep), "the root of the file system"),
                        (os.path.expanduser("~"), "your home folder")):
        if real == os.path.realpath(place):
            raise DataError(f"{root}: {what} — labbench would read every image under it (icons, downloads, "
                            "system files); choose the folder that holds your images")


def find_images(root: str) -> tuple[list[str], list[tuple[str, str]]]:
    """Image files under ``root`` by extension (any case), recursively and sorted, and (folder, reason)
    for folders that could not be listed. Hidden names are ignored; linked folders are followed once
    (folders are tracked by device and inode, so a link loop ends). A tree with more than
    ``MAX_OTHER_FILES`` other files, outnumbering its images, is refused (a DataError)."""
    check_image_root(root)
    files, problems, seen, others = [], [], set(), 0
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            st = os.stat(folder)
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError as err:
            problems.append((folder, f"folder cannot be read ({err.strerror})"))
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                stack.append(entry.path)
            elif os.path.splitext(entry.name)[1].lower() in IMAGE_EXTENSIONS:
                files.append(entry.path)
            else:
                others += 1
                if others > MAX_OTHER_FILES and others > len(files):
                    raise DataError(
                        f"{root}: stopped looking after {others:,} files that are not images ({len(files):,} "
                        "images so far) — this looks like a system or home folder, not an image set; choose the "
                        "folder that holds your images")
    return sorted(files), problems


@dataclass
class FolderSide:
    """Files of one side, as paths relative to that side's folder split into components."""

    paths: list[str]
    parts: list[list[str]]

    def classes(self, at_least: int = 2) -> set[str] | None:
        """Class folder names when every file lies in one and there are ``at_least`` of them; else None."""
        if not self.parts or any(len(p) < 2 for p in self.parts):
            return None
        names = {p[0] for p in self.parts}
        return names if len(names) >= at_least else None

    def labels(self, class_names: list[str]) -> Tensor:
        index = {name: i for i, name in enumerate(class_names)}
        return torch.tensor([index[p[0]] for p in self.parts], dtype=torch.int64)


def _layout(root: str, files: list[str]) -> tuple[FolderSide, FolderSide | None]:
    """(train, eval) parts when ``root`` holds just train/ and test/ or val/ folders; else (all, None)."""
    parts = [os.path.relpath(f, root).split(os.sep) for f in files]
    tops = {p[0] for p in parts if len(p) > 1}
    by_name = {t.lower(): t for t in tops}
    is_split = (
        "train" in by_name and ("val" in by_name or "test" in by_name)
        and set(by_name) <= set(SPLIT_FOLDERS) and all(len(p) > 1 for p in parts)
    )
    if not is_split:
        return FolderSide(files, parts), None
    eval_top = by_name["val" if "val" in by_name else "test"]

    def side(top: str) -> FolderSide:
        rows = [i for i, p in enumerate(parts) if p[0] == top]
        return FolderSide([files[i] for i in rows], [parts[i][1:] for i in rows])

    return side(by_name["train"]), side(eval_top)


@dataclass
class FolderScan:
    """What a folder holds before anything is decoded: its files by side, classes and labels.

    ``held`` is None when the folder has no train/ + val/ (or test/) split; labels are None when it has
    no class folders. ``problems`` lists the folders that could not be read.
    """

    root: str
    train: FolderSide
    held: FolderSide | None
    class_names: list[str]
    train_labels: Tensor | None
    eval_labels: Tensor | None
    problems: list[tuple[str, str]]


def scan_folder(folder: str | None, source: str = "folder") -> FolderScan:
    """Find the images under ``folder`` and read its layout: class per subfolder (names sorted) when every
    image lies in one of at least two, else unlabeled; a train/ and test/ (or val/) split when it holds
    only those (with all three, val/ is the eval side and test/ is left alone)."""
    if not folder:
        raise DataError(f"data.root: choose the folder of images for the source '{source}'")
    root = os.path.abspath(os.path.expanduser(folder))
    if not os.path.isdir(root):
        raise DataError(f"{root}: {'not a folder' if os.path.exists(root) else 'no such folder'}")
    files, problems = find_images(root)
    if not files:
        raise DataError(f"{root}: no images found (looked for {', '.join(sorted(IMAGE_EXTENSIONS))} "
                        "files in it and its subfolders)")
    train, held = _layout(root, files)
    if held is None:
        found = train.classes()
        class_names = sorted(found) if found else []
        labels = train.labels(class_names) if found else None
        return FolderScan(root, train, None, class_names, labels, None, problems)
    found_train, found_eval = train.classes(), held.classes(at_least=1)
    labelled = found_train is not None and found_eval is not None
    class_names = sorted(found_train | found_eval) if labelled else []
    return FolderScan(root, train, held, class_names, train.labels(class_names) if labelled else None,
                      held.labels(class_names) if labelled else None, problems)


def _decode_side(part: FolderSide, index: Tensor, labels: Tensor | None, class_names: list[str], name: str,
                 cfg: DataConfig) -> ImageSet:
    paths = [part.paths[i] for i in index.tolist()]
    decoded = decode_files(paths, cfg.image_size, cache_dir_for(cfg.cache_dir, len(paths) * 3 * cfg.image_size**2))
    return ImageSet(
        images=decoded.images,
        labels=None if labels is None else labels[index][decoded.kept],
        masks=None,
        class_names=class_names,
        name=name,
        paths=[paths[i] for i in decoded.kept.tolist()],
        skipped=list(decoded.skipped),
    )


def load_folder(cfg: DataConfig) -> Split:
    """Images under ``cfg.root`` (see :func:`scan_folder`), split by its own train/ and test/ (or val/)
    folders when it has them, else by ``cfg.eval_fraction``; capped at ``cfg.num_images`` (seeded, stratified)."""
    scan = scan_folder(cfg.root)
    root, train, held, class_names = scan.root, scan.train, scan.held, scan.class_names
    train_labels, eval_labels, problems = scan.train_labels, scan.eval_labels, scan.problems
    base = os.path.basename(root) or root
    if held is None:
        train_idx, eval_idx = holdout_index(train_labels, len(train.paths), cfg.eval_fraction, cfg.seed, cfg.num_images)
        eval_labels = train_labels
        held = train
    else:
        train_idx, eval_idx = official_cap(train_labels, len(train.paths), eval_labels, len(held.paths),
                                           cfg.num_images, cfg.seed)

    train_set = _decode_side(train, train_idx, train_labels, class_names, f"{base}/train", cfg)
    eval_set = _decode_side(held, eval_idx, eval_labels, class_names, f"{base}/eval", cfg)
    if held is train and not (len(train_set) and len(eval_set)):
        # one side drew only unreadable files: hold the share out of the readable ones instead
        chosen = torch.cat([train_idx, eval_idx]).sort().values
        readable = _decode_side(train, chosen, train_labels, class_names, base, cfg)
        _need_readable(readable, len(chosen), root)
        try:
            split = holdout_split(readable, cfg.eval_fraction, cfg.seed)
        except DataError as err:  # too few readable images: say which files were not
            skipped = "; ".join(f"{path}: {reason}" for path, reason in problems + readable.skipped)
            raise DataError(f"{root}: {err}; skipped {skipped}") from None
        train_set, eval_set = split.train, split.eval
        eval_set.skipped = []
    _need_readable(train_set, len(train_idx), root)
    _need_readable(eval_set, len(eval_idx), root)
    train_set.skipped = problems + train_set.skipped
    return Split(train=train_set, eval=eval_set)


def _need_readable(part: ImageSet, tried: int, root: str) -> None:
    if len(part) == 0:
        path, reason = part.skipped[0]
        raise DataError(f"{root}: none of the {tried} image files for {part.name} could be read "
                        f"(first: {path}: {reason})")
