"""``labbench study list | run | show``: the catalogue, a run with its table, resume, and clear errors."""

import contextlib
import io

import pytest

from labbench.cli import main
from labbench.studies import read_results, study_names
from tests.studies.conftest import TWO_BY_TWO, write_study


def test_list_shows_every_catalogue_study_with_its_runs_and_budget(capsys):
    assert main(["study", "list"]) == 0
    out = capsys.readouterr().out
    for name in study_names():
        assert name in out
    assert "5 runs × 140 s" in out and "SimCLR's temperature" in out


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    """``labbench study run FILE --epochs 1``: (exit code, stdout, stderr, study folder); captured by hand,
    since capsys serves one test, not a module."""
    tmp = tmp_path_factory.mktemp("cli")
    out, err = io.StringIO(), io.StringIO()
    text = TWO_BY_TWO.replace('budget = { epochs = 1 }', 'budget = { seconds = 999 }')
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["study", "run", str(write_study(tmp, text)), "--epochs", "1", "--seeds", "0",
                     "--set", "eval.knn_k=3", "--studies-dir", str(tmp / "studies")])
    (folder,) = (tmp / "studies").iterdir()
    return code, out.getvalue(), err.getvalue(), folder


def test_run_prints_each_run_and_ends_with_the_table_and_verdict(ran):
    code, out, err, folder = ran
    assert code == 0
    assert "4 of 4 runs to go × 1 epoch" in err and f"study folder: {folder}" in err
    assert "── run 3/4: tau = 0.5 · head = mlp (seed 0)" in err and "k-NN" in err
    assert "tau  head" in out and "verdict: " in out


def test_run_applies_the_command_line_budget_and_settings(ran):
    *_, folder = ran
    study_toml = (folder / "study.toml").read_text()
    assert "epochs = 1" in study_toml and '"eval.knn_k" = 3' in study_toml
    config = (folder / "runs" / "01-tau=0.1-head=mlp-s0" / "config.toml").read_text()
    assert "knn_k = 3" in config and "epochs = 1" in config


def test_show_prints_the_table_and_as_markdown(ran, capsys):
    *_, folder = ran
    assert main(["study", "show", str(folder)]) == 0
    assert "tau  head" in capsys.readouterr().out
    assert main(["study", "show", str(folder), "--markdown"]) == 0
    out = capsys.readouterr().out
    assert "| tau | head | k-NN | linear probe (z) | runs |" in out and "|---|---|---:|---:|---:|" in out


def test_running_a_finished_study_folder_again_trains_nothing(ran, capsys):
    *_, folder = ran
    before = (folder / "results.jsonl").read_text()
    assert main(["study", "run", str(folder)]) == 0
    assert "0 of 4 runs to go" in capsys.readouterr().err
    assert (folder / "results.jsonl").read_text() == before and len(read_results(folder)) == 4


def test_a_study_folder_keeps_its_settings(ran, capsys):
    *_, folder = ran
    assert main(["study", "run", str(folder), "--budget", "30"]) == 2
    assert "resumes with the settings it started with" in capsys.readouterr().err


def test_an_unknown_key_names_the_file_and_field_and_makes_no_folder(tmp_path, capsys):
    file = write_study(tmp_path, TWO_BY_TWO.replace('"optim.name"', '"optim.nmae"'), "typo")
    assert main(["study", "run", str(file), "--studies-dir", str(tmp_path / "studies")]) == 2
    err = capsys.readouterr().err
    assert str(file) in err and "base.set: optim.nmae: unknown key" in err
    assert not (tmp_path / "studies").exists()


def test_a_bad_set_value_names_the_field(tmp_path, capsys):
    file = write_study(tmp_path)
    assert main(["study", "run", str(file), "--set", "method.temperature=-2",
                 "--studies-dir", str(tmp_path / "studies")]) == 2
    assert "method.temperature: Input should be greater than 0" in capsys.readouterr().err


def test_an_unknown_study_lists_the_catalogue(capsys):
    assert main(["study", "run", "temprature"]) == 2
    err = capsys.readouterr().err
    assert "study 'temprature' not found" in err and "temperature" in err
