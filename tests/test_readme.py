"""The README's "use your encoder in timm / transformers" snippets run as written on a freshly exported ViT
and give the encoder's own features."""

import re
from pathlib import Path

import pytest
import torch

from labbench.engine.checkpointed import load_run_method
from labbench.export import export_run

README = Path(__file__).resolve().parent.parent / "README.md"


def snippet(name: str) -> str:
    found = re.search(rf"<!-- snippet: {name} -->\n```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert found, f"README.md has no {name} snippet"
    return found.group(1)


@pytest.fixture(scope="module")
def exported(dino_run, tmp_path_factory):
    """The tiny DINO ViT exported where the snippets look: ``runs/20261126-130000-dino/exports`` under a temp folder."""
    root = tmp_path_factory.mktemp("readme")
    export_run(dino_run, root / "runs" / "20261126-130000-dino" / "exports", ["safetensors"], name="model")
    return root, load_run_method(dino_run)[0].encoder.eval()


@pytest.mark.parametrize("name", ["timm", "transformers"])
def test_snippet_gives_the_encoders_features(name, exported, monkeypatch):
    root, encoder = exported
    monkeypatch.chdir(root)
    images = torch.randn(4, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    namespace = {"images": images}
    with torch.no_grad():
        exec(snippet(name), namespace)
        torch.testing.assert_close(namespace["features"], encoder(images), atol=1e-5, rtol=1e-5)
