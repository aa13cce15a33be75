"""An export replaces its whole set of files at once: ``<name>.pt``, ``.safetensors``, ``.ts``, ``.onnx``,
``<name>.card.json``, ``<name>-embeddings/`` and the folder's model card come from one checkpoint,
never some from an older one.

Every file is first written into a staging folder beside them (``.export-<name>-XXXX/``) and checked
there. Only then is a manifest written into it, and the files are moved into place, the earlier set's
other members moved out, with Ctrl+C and SIGTERM held back for those few renames. A process killed
before the manifest leaves a staging folder that the next export removes; one killed after it leaves
a swap that the next export completes. Either way no temporary file stays.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from labbench.atomic import atomic_write_text
from labbench.files import read_regular, storage_error

STAGING_PREFIX = ".export-"
_OWNED = ".labbench-staging"  # marks a staging folder as ours: nothing else is ever removed
_MANIFEST = "manifest.json"
_REPLACED = ".replaced"


def export_set(name: str, suffixes: Iterable[str]) -> list[str]:
    """Every file (and the embeddings folder) that belongs to the export called ``name``."""
    return [f"{name}{suffix}" for suffix in suffixes] + [f"{name}.card.json", f"{name}-embeddings"]


@contextmanager
def _stop_signals_held() -> Iterator[None]:
    """Ctrl+C and SIGTERM wait until the renames are done (delivered right after)."""
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextmanager
def staging(folder: Path, name: str) -> Iterator[Path]:
    """A fresh staging folder inside ``folder`` (removed on the way out, whatever happens). The caller
    must hold the lock that covers ``folder``: leftovers of earlier exports are dealt with first."""
    recover(folder)
    try:
        stage = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{name}-", dir=folder))
        (stage / _OWNED).touch()
    except OSError as err:
        raise storage_error(folder, err) from None
    try:
        yield stage
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def swap_in(stage: Path, folder: Path, members: Sequence[str], replaces: Sequence[str]) -> None:
    """Move ``members`` (files in ``stage``) into ``folder``; of the names in ``replaces`` (the whole
    earlier set), those not among them are moved out: the set changes at once, as one."""
    with _stop_signals_held():
        atomic_write_text(stage / _MANIFEST, json.dumps({"files": list(members), "set": list(replaces)}))
        _complete(stage, folder)


def _complete(stage: Path, folder: Path) -> None:
    """Carry out (or finish) the swap a manifest describes; safe to repeat after a kill at any point."""
    manifest = json.loads(read_regular(stage / _MANIFEST))
    new = set(manifest["files"])
    replaced = stage / _REPLACED
    try:
        replaced.mkdir(exist_ok=True)
        for member in manifest["set"]:
            target = folder / member
            waiting = (stage / member).exists()  # a new file not yet moved in
            if (member not in new or waiting) and (target.exists() or target.is_symlink()):
                os.replace(target, replaced / member)
        for member in manifest["files"]:
            if (stage / member).exists():
                os.replace(stage / member, folder / member)
    except OSError as err:
        raise storage_error(folder, err) from None
    shutil.rmtree(stage, ignore_errors=True)


def recover(folder: Path) -> list[str]:
    """Finish or remove what killed exports left in ``folder``; the names of the staging folders handled."""
    handled = []
    for stage in sorted(folder.glob(f"{STAGING_PREFIX}*")):
        if stage.is_symlink() or not (stage / _OWNED).is_file():
            continue
        if (stage / _MANIFEST).is_file():
            _complete(stage, folder)
        else:
            shutil.rmtree(stage, ignore_errors=True)
        handled.append(stage.name)
    return handled
