import doctest
import importlib
import pkgutil

import pytest
import torch

import labbench.losses

MODULES = [m.name for m in pkgutil.iter_modules(labbench.losses.__path__)]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run_as_written(name: str) -> None:
    module = importlib.import_module(f"labbench.losses.{name}")
    result = doctest.testmod(module, extraglobs={"torch": torch}, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name}: no Examples: block"
    assert result.failed == 0


def test_every_public_loss_has_a_paper_formula_and_examples() -> None:
    for name in labbench.losses.__all__:
        doc = getattr(labbench.losses, name).__doc__
        assert "Examples:" in doc, name
        assert any(ch.isdigit() for ch in doc.split("\n")[0]), f"{name}: first line should cite the paper (year)"
