"""The house's layers hold: import-linter's contracts pass, and every module imports on its own."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# A fresh interpreter imports the slow third-party libraries once, then forks one child per module:
# in each child that module is the first of labbench/ui to be imported, the order an import cycle
# trips over. (An interpreter per module would import torch 135 times.)
IMPORT_EACH_ALONE = """
import importlib, json, os, sys, traceback
import numpy, pydantic, torch, torchvision  # noqa: E401  (the slow third-party imports, done once)
for name in pydantic.__all__:  # pydantic imports its parts lazily: load them all before PySide6's import hook
    getattr(pydantic, name)
import PySide6.QtWidgets, pyqtgraph  # noqa: E401, F401
assert not any(m == p or m.startswith(p + ".") for m in sys.modules for p in ("labbench", "ui"))
failures = {}
for name in json.loads(sys.argv[1]):
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            importlib.import_module(name)
            code = 0
        except BaseException:
            os.write(write, traceback.format_exc().encode())
            code = 1
        os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        report = pipe.read().decode()
    _, status = os.waitpid(pid, 0)
    if status:
        failures[name] = report or f"the process ended with status {status}"
print(json.dumps(failures))
"""


def project_modules() -> list[str]:
    """Every module of labbench/ and ui/ except ``__main__`` (importing it runs the program)."""
    names = []
    for package in ("labbench", "ui"):
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__main__":
                continue
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def test_import_linter_contracts_hold():
    """The engine never imports Qt, each layer imports only the layers below it, and no package's parts
    import each other in a cycle (pyproject.toml, [tool.importlinter])."""
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "layers: imports only go down KEPT" in result.stdout


@pytest.mark.skipif(not hasattr(os, "fork"), reason="forks a process per module")
def test_every_module_imports_on_its_own():
    modules = project_modules()
    assert "labbench.methods.momentum" in modules and "ui.main_window" in modules
    out = subprocess.run([sys.executable, "-c", IMPORT_EACH_ALONE, json.dumps(modules)], cwd=ROOT,
                         capture_output=True, text=True, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert out.returncode == 0, out.stderr
    failures = json.loads(out.stdout.strip().splitlines()[-1])
    assert not failures, "\n\n".join(f"import {name} alone:\n{report}" for name, report in failures.items())


def test_importing_the_engine_loads_no_qt():
    code = "import sys, labbench.engine, labbench.cli; print(any(m.startswith(('PySide6', 'pyqtgraph', 'ui')) for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"



def test_the_command_line_loads_no_torch_until_a_command_needs_it():
    """``labbench --help`` answers at once: the config (which knows every method) is imported when a command runs."""
    code = "import sys, labbench.cli; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
