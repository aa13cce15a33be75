"""A ViT export plugs into timm and transformers: timm's key names, the timm model built from the card alone,
timm's ``local-dir:`` folder and transformers' ``AutoModel`` give the encoder's own features."""

import json

import pytest
import timm
import torch
from safetensors.torch import load_file

from labbench.engine.checkpointed import load_run_method
from labbench.export import export_run, load_encoder
from labbench.export.timm_vit import from_timm_keys

x = torch.randn(3, 3, 16, 16, generator=torch.Generator().manual_seed(0))


@pytest.fixture(scope="module")
def live(dino_run):
    return load_run_method(dino_run)[0].encoder.eval()


def test_weights_are_saved_under_timm_key_names(vit_export):
    card = vit_export.card
    model = timm.create_model(card["timm"]["architecture"], pretrained=False, num_classes=0, **card["timm"]["model_args"])
    for fmt in ("pt", "safetensors"):
        state = torch.load(vit_export.files["pt"], weights_only=True) if fmt == "pt" else load_file(vit_export.files[fmt])
        assert set(state) == set(model.state_dict()), fmt  # no key missing, none unexpected


def test_the_timm_model_built_by_the_cards_code_gives_the_encoders_features(vit_export, live):
    namespace = {}
    exec(vit_export.card["timm"]["code"].replace("ENCODER", str(vit_export.folder / "encoder")), namespace)
    model = namespace["model"].eval()
    with torch.no_grad():
        torch.testing.assert_close(model(x), live(x), atol=1e-5, rtol=1e-5)
    # timm's own data config reproduces labbench's eval transform
    data = timm.data.resolve_data_config({}, model=model)
    assert tuple(data["input_size"]) == (3, 16, 16) and data["crop_pct"] == 1.0
    assert data["mean"] == pytest.approx((0.485, 0.456, 0.406)) and data["std"] == pytest.approx((0.229, 0.224, 0.225))


def test_the_export_folder_loads_with_timm_local_dir(vit_export, live):
    model = timm.create_model(f"local-dir:{vit_export.folder}", pretrained=True).eval()
    with torch.no_grad():
        torch.testing.assert_close(model(x), live(x), atol=1e-5, rtol=1e-5)


def test_named_model_the_folder_loads_with_transformers_automodel(dino_run, live, tmp_path):
    from transformers import AutoModel

    export_run(dino_run, tmp_path, ["safetensors"], name="model")
    model = AutoModel.from_pretrained(tmp_path).eval()
    with torch.no_grad():
        torch.testing.assert_close(model(pixel_values=x).pooler_output, live(x), atol=1e-5, rtol=1e-5)


def test_exports_under_labbenchs_own_key_names_still_load(vit_export, live, tmp_path):
    # exports written before the timm names (card version 1) hold the module names of labbench's ViT
    old = tmp_path / "old.pt"
    torch.save(from_timm_keys(torch.load(vit_export.files["pt"], weights_only=True)), old)
    (tmp_path / "old.card.json").write_text(json.dumps(vit_export.card))
    encoder, _ = load_encoder(old)
    with torch.no_grad():
        torch.testing.assert_close(encoder(x), live(x))
