"""benchmarks/gpu_suite.py runs end to end without a GPU (``--device cpu --tiny``), every section in its report."""

import subprocess
import sys
from pathlib import Path

import pytest

SUITE = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_suite.py"


@pytest.mark.slow
def test_the_gpu_suite_runs_every_section_on_the_cpu_at_tiny_sizes(tmp_path):
    out = tmp_path / "report.md"
    done = subprocess.run([sys.executable, str(SUITE), "--device", "cpu", "--tiny", "--out", str(out)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    report = out.read_text()
    for title in ("CUDA tests", "Training throughput against lightly", "SimCLR on CIFAR-10 photos",
                  "Streaming loader", "Two processes on one device"):
        assert f"## {title}" in report
    assert "**failed:**" not in report, report
    assert "0 failed" in report and " passed" in report
    assert "| simclr |" in report and "| dino |" in report and "Goals: SimCLR" in report
    assert "DataLoader workers on the CPU" in report and "**gloo**" in report
    assert "| epoch | time | k-NN |" in report or "cifar10-jpg not found" in report
