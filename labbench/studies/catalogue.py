"""The catalogue: the lecture's claims as study files shipped inside the package (``resources/studies``)."""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from labbench.errors import ConfigError
from labbench.studies.spec import Study, read_study, study_from_text

#: read with importlib.resources, so an installed wheel finds them without the checkout
STUDY_DIR: Traversable = files("labbench") / "resources" / "studies"


def study_names() -> list[str]:
    return sorted(p.name.removesuffix(".toml") for p in STUDY_DIR.iterdir() if p.name.endswith(".toml"))


def catalogue_study(name: str) -> Study:
    path = STUDY_DIR / f"{name}.toml"
    if not path.is_file():
        raise ConfigError(f"study {name!r} not found; choose one of {', '.join(study_names())}, or give a study file")
    return study_from_text(path.read_text(encoding="utf-8"), f"{name}.toml")


def load_study(name_or_file: str | Path) -> Study:
    """A catalogue study by name, or a study file (``.toml``)."""
    text = str(name_or_file)
    if text.endswith(".toml") or Path(text).is_file():
        return read_study(text)
    return catalogue_study(text)
