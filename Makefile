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
	$(BIN)/pip install -q -e '.[gui,dev,bench]' $(TORCH)
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/labbench gui

demo: $(STAMP)
	$(BIN)/labbench train --preset simclr --data shapes --set train.epochs=5

# The wheel as a new user gets it (installed into a fresh venv without Qt, run from an empty folder),
# then the whole suite in one pytest process (window tests run offscreen; tests/conftest.py sets it).
test: $(STAMP)
	PY=$(BIN)/python bash .ci/check_wheel
	$(BIN)/python -m pytest -q -rs

bench: $(STAMP)
	$(BIN)/python benchmarks/simclr_shapes.py

clean:
	rm -rf $(VENV) .pytest_cache
