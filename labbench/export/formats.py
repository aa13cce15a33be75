"""The four files an encoder is exported to, and the one loader that reads all of them back.

- ``.pt``: a plain state_dict (tensors only; loads with ``weights_only=True``; a ResNet's loads
  straight into torchvision, a ViT's into timm: it is saved under timm's key names), with the card
  beside it as ``<name>.card.json``;
- ``.safetensors``: the same tensors, the card in the file's metadata;
- ``.ts``: TorchScript (traced at the card's input size), the card as an extra file;
- ``.onnx``: ONNX (opset 17; any batch size, and any height and width the backbone accepts), the
  card in the model's metadata; run with onnxruntime.
"""

from __future__ import annotations

import io
import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from labbench.atomic import atomic_write, atomic_write_bytes
from labbench.engine.checkpoint import load_checkpoint
from labbench.errors import CheckpointError, ConfigError
from labbench.export.card import build_from_card
from labbench.export.timm_vit import from_timm_keys, to_timm_keys
from labbench.models import VisionTransformer

#: format name -> file suffix
FORMATS: dict[str, str] = {"pt": ".pt", "safetensors": ".safetensors", "torchscript": ".ts", "onnx": ".onnx"}
CARD_KEY = "labbench_card"
ONNX_OPSET = 17


def card_path(path: str | Path) -> Path:
    """Where the card of an export lives: ``<name>.card.json`` beside ``<name>.<suffix>``."""
    path = Path(path)
    return path.with_name(f"{path.stem}.card.json")


def _state_dict(encoder: nn.Module) -> dict[str, Tensor]:
    # contiguous, unshared CPU copies: what safetensors requires and what a reader expects
    state = {k: v.detach().cpu().contiguous().clone() for k, v in encoder.state_dict().items()}
    return to_timm_keys(state) if isinstance(encoder, VisionTransformer) else state


def _write_pt(encoder: nn.Module, card: dict[str, Any], path: Path, sample: Tensor) -> None:
    atomic_write(path, lambda f: torch.save(_state_dict(encoder), f))


def _write_safetensors(encoder: nn.Module, card: dict[str, Any], path: Path, sample: Tensor) -> None:
    from safetensors.torch import save

    atomic_write_bytes(path, save(_state_dict(encoder), metadata={CARD_KEY: json.dumps(card)}))


def _write_torchscript(encoder: nn.Module, card: dict[str, Any], path: Path, sample: Tensor) -> None:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # tracing fixes the input size (the card states it), which is all the tracer warns about;
        # torch.jit is deprecated upstream in favour of torch.export but still the format C++ and mobile load
        warnings.simplefilter("ignore")
        torch.jit.save(torch.jit.trace(encoder, sample), buffer, _extra_files={"card.json": json.dumps(card)})
    atomic_write_bytes(path, buffer.getvalue())


def _onnx_modules():
    try:
        import onnx
        import onnxruntime
    except ImportError:
        raise ConfigError("ONNX export needs the onnx and onnxruntime packages: pip install onnx onnxruntime") from None
    return onnx, onnxruntime


def _write_onnx(encoder: nn.Module, card: dict[str, Any], path: Path, sample: Tensor) -> None:
    onnx, _ = _onnx_modules()
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # the TorchScript-based exporter: no onnxscript needed, and a fixed graph is all an encoder is
        torch.onnx.export(
            encoder, (sample,), buffer, dynamo=False, opset_version=ONNX_OPSET,
            input_names=["images"], output_names=["features"],
            # every backbone pools its features, so height and width are free (a ViT's in patch multiples)
            dynamic_axes={"images": {0: "batch", 2: "height", 3: "width"}, "features": {0: "batch"}},
        )
    model = onnx.load_from_string(buffer.getvalue())
    entry = model.metadata_props.add()
    entry.key, entry.value = CARD_KEY, json.dumps(card)
    atomic_write_bytes(path, model.SerializeToString())


WRITERS: dict[str, Callable[[nn.Module, dict[str, Any], Path, Tensor], None]] = {
    "pt": _write_pt,
    "safetensors": _write_safetensors,
    "torchscript": _write_torchscript,
    "onnx": _write_onnx,
}


class OnnxEncoder(nn.Module):
    """An ONNX encoder run by onnxruntime (CPU), behaving like the PyTorch encoder: images in, features out."""

    def __init__(self, path: str | Path, feature_dim: int) -> None:
        super().__init__()
        _, onnxruntime = _onnx_modules()
        self.session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        self.feature_dim = feature_dim

    def forward(self, x: Tensor) -> Tensor:
        out = self.session.run(None, {"images": x.detach().float().cpu().numpy()})[0]
        return torch.from_numpy(out).to(x.device)


def _read_json(text: str | None, source: Path) -> dict[str, Any]:
    try:
        card = json.loads(text or "")
    except json.JSONDecodeError:
        card = None
    if not isinstance(card, dict):
        raise CheckpointError(f"{source}: no labbench model card found in or beside the file")
    return card


def _load_weights(model: nn.Module, state: dict[str, Tensor], path: Path) -> nn.Module:
    if isinstance(model, VisionTransformer):
        state = from_timm_keys(state)  # saved under timm's names (exports before card version 2: labbench's)
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        raise CheckpointError(f"{path}: the weights do not fit the encoder its card describes "
                              f"({str(err).splitlines()[0]})") from None
    return model.eval()


def _load_pt(path: Path) -> tuple[nn.Module, dict[str, Any]]:
    state = load_checkpoint(path)  # weights_only: a file that would run code is refused here
    card_file = card_path(path)
    if not card_file.is_file():
        raise CheckpointError(f"{path}: its model card {card_file.name} is missing; it says how to rebuild the encoder")
    card = _read_json(card_file.read_text(encoding="utf-8"), card_file)
    return _load_weights(build_from_card(card, path), state, path), card


def _load_safetensors(path: Path) -> tuple[nn.Module, dict[str, Any]]:
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
            state = {k: f.get_tensor(k) for k in f.keys()}
    except (SafetensorError, OSError) as err:
        raise CheckpointError(f"{path}: not a readable safetensors file ({err})") from None
    card = _read_json(metadata.get(CARD_KEY), path)
    return _load_weights(build_from_card(card, path), state, path), card


def _load_torchscript(path: Path) -> tuple[nn.Module, dict[str, Any]]:
    extra = {"card.json": ""}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # torch.jit's deprecation notice
            model = torch.jit.load(str(path), map_location="cpu", _extra_files=extra)
    except (RuntimeError, ValueError) as err:
        raise CheckpointError(f"{path}: not a readable TorchScript file ({str(err).splitlines()[0]})") from None
    return model.eval(), _read_json(extra["card.json"], path)


def _load_onnx(path: Path) -> tuple[nn.Module, dict[str, Any]]:
    _, onnxruntime = _onnx_modules()
    try:
        meta = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"]).get_modelmeta()
    except Exception as err:  # noqa: BLE001 — onnxruntime raises its own untyped errors for bad files
        raise CheckpointError(f"{path}: not a readable ONNX file ({str(err).splitlines()[0]})") from None
    card = _read_json(meta.custom_metadata_map.get(CARD_KEY), path)
    return OnnxEncoder(path, int(card.get("feature_dim", 0))), card


LOADERS: dict[str, Callable[[Path], tuple[nn.Module, dict[str, Any]]]] = {
    ".pt": _load_pt,
    ".safetensors": _load_safetensors,
    ".ts": _load_torchscript,
    ".onnx": _load_onnx,
}


def load_encoder(path: str | Path) -> tuple[nn.Module, dict[str, Any]]:
    """An exported encoder (``.pt``, ``.safetensors``, ``.ts`` or ``.onnx``) in eval mode, and its card.

    ``.pt`` is read with ``weights_only=True``; ONNX comes back as a small module around an
    onnxruntime session. Problems raise CheckpointError naming the file.
    """
    path = Path(path)
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        raise CheckpointError(f"{path}: unknown export format; expected one of {', '.join(LOADERS)}")
    if not path.is_file():
        raise CheckpointError(f"{path}: no such file")
    return loader(path)
