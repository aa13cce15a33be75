"""ONNX exports take any batch and any height and width the backbone accepts, checked through onnxruntime."""

import onnxruntime
import pytest
import torch

from labbench.engine.checkpointed import load_run_method
from labbench.export import export_run


@pytest.mark.parametrize("run, sizes", [("dino_run", [(2, 16, 16), (5, 24, 32)]), ("simclr_run", [(2, 16, 16), (3, 40, 28)])])
def test_onnx_matches_the_encoder_at_two_input_sizes(run, sizes, request, tmp_path):
    run_dir = request.getfixturevalue(run)
    result = export_run(run_dir, tmp_path, ["onnx"])
    live = load_run_method(run_dir)[0].encoder.eval()
    session = onnxruntime.InferenceSession(str(result.files["onnx"]), providers=["CPUExecutionProvider"])
    for batch, height, width in sizes:
        x = torch.randn(batch, 3, height, width, generator=torch.Generator().manual_seed(height))
        (features,) = session.run(None, {"images": x.numpy()})
        with torch.no_grad():
            torch.testing.assert_close(torch.from_numpy(features), live(x), atol=1e-4, rtol=1e-4)
