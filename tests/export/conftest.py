import pytest

from labbench.export import export_run


@pytest.fixture(scope="module")
def vit_export(dino_run, tmp_path_factory):
    """The tiny DINO ViT run exported to every format (made once per module)."""
    return export_run(dino_run, tmp_path_factory.mktemp("vit-export"))
