# Two commands do everything on a fresh machine: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# torch and torchvision are pinned to the builds on this machine's disk; the pip constraint file
# keeps a resolver from pulling another torch.
TORCH := torch==2.14.1 torchvision==0.29.1

.PHONY: run test gui demo bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q $(TORCH)
	$(BIN)/pip install -q -e '.[dev,bench]' $(TORCH)
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/labbench gui

demo: $(STAMP)
	$(BIN)/labbench train --preset simclr --data shapes --set train.epochs=5

# Three pytest processes. The aborts that first motivated the split came from PySide6 6.12.0 (over-released
# None on Python 3.11, excluded in pyproject.toml); the split stays as insurance until a run on 6.11.3 confirms it.
GUI_ERRORS := tests/reliability/test_gui_errors.py
test: $(STAMP)
	$(BIN)/python -m pytest -q -rs --ignore=tests/ui --ignore=$(GUI_ERRORS)
	$(BIN)/python -m pytest -q -rs tests/ui
	$(BIN)/python -m pytest -q -rs $(GUI_ERRORS)

bench: $(STAMP)
	$(BIN)/python benchmarks/simclr_shapes.py

clean:
	rm -rf $(VENV) .pytest_cache
