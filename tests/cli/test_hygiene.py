"""The command behaves as Unix tools do: --version, a closed pipe ends quietly, missing extras are explained."""

import subprocess
import sys
from pathlib import Path

import labbench
from labbench.cli import EXIT_BROKEN_PIPE, main
from labbench.cli import gui as gui_cli

ROOT = Path(__file__).resolve().parents[2]


def test_version_prints_the_package_version(capsys):
    try:
        main(["--version"])
    except SystemExit as stop:
        assert stop.code == 0
    assert capsys.readouterr().out.strip() == f"labbench {labbench.__version__}"


def test_a_reader_that_goes_away_ends_the_command_quietly(tmp_path):
    # `labbench presets | head -0`: the pipe is closed before anything is written
    proc = subprocess.Popen([sys.executable, "-m", "labbench", "presets"], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={"PYTHONPATH": str(ROOT), "PATH": ""})
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait() == EXIT_BROKEN_PIPE
    assert err == ""  # no BrokenPipeError traceback, no "Exception ignored" line


def test_gui_without_the_gui_extra_says_how_to_install_it(monkeypatch, capsys):
    monkeypatch.setattr(gui_cli, "missing_gui_packages", lambda: ["PySide6", "pyqtgraph"])  # a headless install
    assert main(["gui"]) == 2
    err = capsys.readouterr().err
    assert "pip install 'ssl-labbench[gui]'" in err and "Traceback" not in err


def test_the_labbench_gui_script_says_the_same(monkeypatch, capsys):
    monkeypatch.setattr(gui_cli, "missing_gui_packages", lambda: ["PySide6"])
    monkeypatch.setattr(sys, "argv", ["labbench-gui"])
    assert gui_cli.main() == 2
    assert "ssl-labbench[gui]" in capsys.readouterr().err
