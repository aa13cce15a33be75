"""``labbench eval`` end to end: the table with baselines on stdout, eval.json in the run folder."""

from labbench.cli import main


def test_eval_command_prints_the_table_with_baselines(simclr_run, capsys):
    assert main(["eval", str(simclr_run), "--protocols", "knn,linear", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["run", "method", "backbone"] and "linear %" in lines[0]
    assert any(simclr_run.name in line and "simclr" in line for line in lines)
    assert any(line.startswith("random-init encoder") for line in lines)
    assert any(line.startswith("raw pixels") for line in lines)
    assert (simclr_run / "eval.json").is_file()


def test_eval_of_a_folder_that_is_not_a_run_fails_with_a_message(tmp_path, capsys):
    assert main(["eval", str(tmp_path)]) == 2
    assert "no config.toml" in capsys.readouterr().err
