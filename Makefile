# Two entry points for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CONFIG ?= config.example.toml
# Extras beside the core install for `run` and `install` (config.example.toml needs none):
# EXTRAS=mtproto for telegram_mtproto sources, EXTRAS=research for serve/--plot, or both, comma-separated.
EXTRAS ?=
# One stamp per install, named by what it installed: `make test` after `make run` adds the test
# tools (and every extra), a changed EXTRAS installs again, and pyproject.toml's changes redo both.
STAMP := $(VENV)/.installed-$(or $(EXTRAS),core)
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test install bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.$(if $(EXTRAS),[$(EXTRAS)])'
	touch $(STAMP)

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(DEV_STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/dsns-monitor run --config $(CONFIG)

# One worker per core: most tests wait on local servers and subprocesses, not on each other.
# The slowest 15 are listed so a test that grows shows in every CI log.
test: $(DEV_STAMP)
	$(BIN)/python -m pytest -n auto --durations=15

bench: $(DEV_STAMP)
	for b in bench/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache
