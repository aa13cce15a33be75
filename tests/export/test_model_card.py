"""The Hugging Face model card: README.md with front matter that huggingface_hub reads (library, tags, datasets,
metrics, the evaluation as model-index), beside the JSON card; a README.md someone else wrote is never overwritten."""

import pytest
from huggingface_hub import ModelCard

from labbench.errors import ConfigError
from labbench.scoring import evaluate_run
from labbench.export import export_run


def test_a_vit_card_names_timm_the_method_the_data_and_every_file(vit_export):
    card = ModelCard.load(vit_export.hub_files["README.md"])
    meta = card.data.to_dict()
    assert meta["library_name"] == "timm" and meta["pipeline_tag"] == "image-feature-extraction"
    assert {"labbench", "dino", "vit_tiny", "self-supervised-learning"} <= set(meta["tags"])
    assert meta["datasets"] == ["shapes"]
    for path in vit_export.files.values():
        assert f"`{path.name}`" in card.text
    assert "timm.create_model('local-dir:.', pretrained=True)" in card.text


def test_evaluation_figures_become_model_index_results(simclr_run, tmp_path):
    evaluate_run(simclr_run, ["knn"], device="cpu")
    result = export_run(simclr_run, tmp_path, ["pt"])
    card = ModelCard.load(result.hub_files["README.md"])
    assert "library_name" not in card.data.to_dict()  # a small CNN has no home in timm; the card says how to load it
    (found,) = card.data.eval_results
    knn = result.card["evaluation"]["scores"]["knn"]
    assert found.metric_type == "accuracy" and found.metric_value == pytest.approx(100 * knn, abs=0.01)
    assert found.dataset_name == "shapes" and card.data.metrics == ["accuracy"]
    assert f"{100 * knn:.1f} %" in card.text  # the table beside the baselines


def test_an_export_never_overwrites_a_readme_it_did_not_write(simclr_run, tmp_path):
    notes = tmp_path / "README.md"
    notes.write_text("my notes\n")
    with pytest.raises(ConfigError, match="README.md"):
        export_run(simclr_run, tmp_path, ["pt"])
    assert notes.read_text() == "my notes\n" and sorted(p.name for p in tmp_path.iterdir()) == ["README.md"]
    export_run(simclr_run, tmp_path / "again", ["pt"])
    export_run(simclr_run, tmp_path / "again", ["pt"])  # its own card is replaced by the next export
