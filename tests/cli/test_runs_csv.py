"""``labbench runs --csv``: one row per run folder, unrounded figures, readable by the csv module."""

import csv
import io

from labbench.cli import main
from labbench.cli.runs import CSV_COLUMNS
from labbench.runs import read_run


def test_csv_has_a_row_per_run_with_its_last_figures(simclr_run, capsys):
    assert main(["runs", "--csv", "--runs-dir", str(simclr_run.parent)]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    (row,) = [r for r in rows if r["run"] == simclr_run.name]
    info = read_run(simclr_run)
    assert tuple(row) == CSV_COLUMNS
    assert row["method"] == "simclr" and row["status"] == "completed" and row["data"] == "shapes"
    assert int(row["step"]) == info.step and float(row["loss"]) == info.loss
    assert float(row["knn_accuracy"]) == info.knn_accuracy  # a fraction, unrounded


def test_no_runs_is_a_header_alone(tmp_path, capsys):
    assert main(["runs", "--csv", "--runs-dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out.splitlines() == [",".join(CSV_COLUMNS)]
