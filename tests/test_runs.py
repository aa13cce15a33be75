"""Run folders open with whatever is there; metrics never break on a torn line."""

from labbench.run_config import RunConfig
from labbench.runs import MetricsLog, create_run_dir, list_runs, read_metrics, read_run


def test_create_run_dir_writes_config_and_folders(tmp_path):
    path = create_run_dir(RunConfig(name="first try"), tmp_path)
    assert path.name.endswith("-simclr-first-try")
    assert (path / "config.toml").is_file() and (path / "checkpoints").is_dir() and (path / "exports").is_dir()


def test_torn_last_line_is_skipped(tmp_path):
    log = MetricsLog(tmp_path / "metrics.jsonl")
    log.append({"kind": "step", "step": 1, "loss": 2.0})
    with open(tmp_path / "metrics.jsonl", "ab") as f:
        f.write(b'{"kind": "step", "st')
    assert read_metrics(tmp_path) == [{"kind": "step", "step": 1, "loss": 2.0}]


def test_folder_without_config_still_opens(tmp_path):
    run = tmp_path / "20260101-000000-simclr"
    run.mkdir()
    MetricsLog(run / "metrics.jsonl").append({"kind": "epoch", "knn_accuracy": 0.5})
    info = read_run(run)
    assert info.method is None and info.knn_accuracy == 0.5 and info.problems
    assert [r.path for r in list_runs(tmp_path)] == [run]
