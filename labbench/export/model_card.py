"""The Hugging Face model card of an export: ``README.md`` with YAML front matter, beside the JSON card.

The Hub renders it as the model's page and indexes its metadata (library, tags, datasets, metrics,
and the evaluation figures as ``model-index`` results); ``huggingface_hub.ModelCard.load`` reads it.
The text says what the encoder is, what it expects and how to load each file. The front matter is
written as JSON values, which YAML reads as they are, so no YAML library is needed to write it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from labbench.errors import ConfigError

MODEL_CARD_NAME = "README.md"
HUB_CONFIG_NAME = "config.json"
#: the line that marks a README.md as a labbench model card, which a later export may replace
MARKER = "<!-- labbench model card: written by `labbench export`, replaced by the next export into this folder -->"
PROTOCOL_NAMES = {"knn": "k-NN", "linear": "linear probe", "finetune": "fine-tuning"}


def check_replaceable(folder: Path) -> None:
    """Refuse a folder whose README.md or config.json someone else wrote (an export must not overwrite them)."""
    readme, config = folder / MODEL_CARD_NAME, folder / HUB_CONFIG_NAME
    if readme.is_file() and MARKER not in readme.read_text(encoding="utf-8", errors="replace"):
        raise ConfigError(f"{readme}: this folder's README.md is not a labbench model card, and an export writes "
                          "its own README.md; export into an empty folder (or the run's exports/)")
    if config.is_file():
        try:
            ours = json.loads(config.read_text(encoding="utf-8"))["pretrained_cfg"]["tag"] == "labbench"
        except (ValueError, KeyError, TypeError):
            ours = False
        if not ours:
            raise ConfigError(f"{config}: this folder's config.json was not written by labbench, and a ViT export "
                              "writes timm's config.json; export into an empty folder (or the run's exports/)")


def front_matter(card: dict[str, Any]) -> dict[str, Any]:
    """The model card metadata: library, tags, datasets, metrics and the evaluation as ``model-index``."""
    data = card.get("data")
    meta: dict[str, Any] = {}
    if "timm" in card:
        meta["library_name"] = "timm"
    meta["tags"] = ["labbench", "self-supervised-learning", card["method"], card["backbone"]["name"],
                    "image-feature-extraction", "pytorch"]
    meta["pipeline_tag"] = "image-feature-extraction"
    if data and data != "folder":  # a folder's name says nothing to the Hub (and may say too much)
        meta["datasets"] = [data]
    evaluation = card.get("evaluation") or {}
    scores = evaluation.get("scores") or {}
    if scores:
        meta["metrics"] = ["accuracy"]
        dataset = evaluation.get("dataset") or data or "images"
        meta["model-index"] = [{
            "name": card.get("run") or f"{card['method']}-{card['backbone']['name']}",
            "results": [
                {
                    "task": {"type": "image-classification", "name": f"{PROTOCOL_NAMES.get(p, p)} classification"},
                    "dataset": {"name": dataset, "type": dataset},
                    "metrics": [{"type": "accuracy", "value": round(100 * acc, 2),
                                 "name": f"{PROTOCOL_NAMES.get(p, p)} top-1 accuracy (%)"}],
                }
                for p, acc in scores.items()
            ],
        }]
    return meta


def _usage(card: dict[str, Any], name: str) -> list[str]:
    lines = [
        "## Use it", "",
        "With labbench (any of the files; features are B×{} for ImageNet-normalised B×3×H×W images):".format(
            card["feature_dim"]),
        "", "```python", "from labbench import load_encoder", "",
        f"encoder, card = load_encoder({name + '.safetensors'!r})", "features = encoder(images)", "```", "",
    ]
    if "timm" in card:
        timm = card["timm"]
        lines += [
            "With timm (the weights are saved under timm's key names):", "", "```python", "import timm", "",
            f"model = timm.create_model({'local-dir:.'!r}, pretrained=True)  # this folder: config.json + the weights",
            "# or, from the card alone:",
            timm["code"].replace("ENCODER", name).replace("import timm\n", ""),
            "```", "",
            "With transformers (`TimmWrapperModel`; export with `--name model` so the weights are `model.safetensors`):",
            "", "```python", "from transformers import AutoModel", "",
            "model = AutoModel.from_pretrained('.')", "features = model(pixel_values=images).pooler_output", "```", "",
        ]
    if "torchvision" in card:
        lines += ["With torchvision:", "", "```python", card["torchvision"]["code"].replace("ENCODER", name),
                  "```", ""]
    lines += [
        "Without Python dependencies beyond the runtime: `{0}.ts` (TorchScript, `torch.jit.load`) and `{0}.onnx` "
        "(onnxruntime; input `images`, output `features`).".format(name), "",
    ]
    return lines


def _evaluation_table(card: dict[str, Any]) -> list[str]:
    evaluation = card.get("evaluation") or {}
    scores = evaluation.get("scores") or {}
    if not scores:
        return ["No evaluation was run before this export (`labbench eval RUN_DIR` adds one).", ""]
    baselines = evaluation.get("baselines") or {}
    header = ["| protocol | this encoder |"] + [f" {b} |" for b in baselines]
    lines = [f"On {evaluation.get('dataset')} (top-1 accuracy):", "", "".join(header),
             "|---|---|" + "---|" * len(baselines)]
    for p, acc in scores.items():
        others = "".join(f" {100 * baselines[b][p]:.1f} % |" if p in baselines[b] else " |" for b in baselines)
        lines.append(f"| {PROTOCOL_NAMES.get(p, p)} | {100 * acc:.1f} % |{others}")
    if evaluation.get("caveat"):
        lines += ["", evaluation["caveat"]]
    return lines + [""]


def model_card_markdown(card: dict[str, Any], name: str) -> str:
    """The README.md text of the export ``name`` described by the JSON ``card``."""
    size = card["input"]["shape"][-1]
    trained = f"{card['step']} steps ({card['epoch']} epochs)" if card.get("step") is not None else "its training"
    files = card.get("files", {})
    lines = [
        "---", *(f"{key}: {json.dumps(value)}" for key, value in front_matter(card).items()), "---", MARKER, "",
        f"# {card['method']} · {card['backbone']['name']} encoder", "",
        f"A {card['backbone']['name']} encoder trained self-supervised with **{card['method']}** in "
        f"labbench (`pip install ssl-labbench`) on `{card.get('data') or 'its data'}` at {size}×{size} px "
        f"for {trained}; run `{card.get('run') or '-'}`, config hash `{card['config_hash']}`. The projection head "
        "is dropped: the files hold the encoder alone.", "",
        "## Input and output", "",
        f"- input: float32 B×3×H×W, RGB, {card['input']['preprocess']}; "
        f"mean {card['input']['mean']}, std {card['input']['std']}; trained at {size}×{size}",
        f"- other sizes: {card['input'].get('sizes', 'the trained size')}",
        f"- output: B×{card['feature_dim']} {card['output']['meaning']}", "",
        "## Evaluation", "", *_evaluation_table(card),
        "## Files", "", "| file | bytes | largest difference from the trained encoder |", "|---|---|---|",
        *(f"| `{f['file']}` | {f['bytes']:,} | {f['max_abs_diff']:.1e} |" for f in files.values()),
        f"| `{name}.card.json` | | the JSON card: everything above, for programs |", "",
        *_usage(card, name),
    ]
    return "\n".join(lines)
