# Two commands for a newcomer: `make run` and `make test` (README). Everything else is theirs.
SHELL := /bin/bash
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
# Rasa's training progress bars would flood logs and CI output.
export TQDM_DISABLE := 1

.PHONY: run test train setup bench lint validate clean help

help:
	@echo "make run    set up, train if needed, start Rasa + actions (+ desk) on the embedded default"
	@echo "make test   set up, train if needed, lint, validate the data, run the whole suite"
	@echo "make bench  measurements (README: Measurements); make lint; make train; make clean"

# One resolver pass over pinned versions (constraints.txt), so nothing upgrades Rasa's pins.
$(STAMP): pyproject.toml constraints.txt scripts/ensure-system-packages
	@scripts/ensure-system-packages
	@set -e; if [ ! -x $(PY) ]; then py=$$(scripts/find-python310); $$py -m venv $(VENV); fi
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	$(BIN)/pip check
	@touch $@

setup: $(STAMP)

train: setup
	$(PY) -m madoguchi.runtime.training

run: train
	$(PY) -m madoguchi.runtime.run $(if $(PROFILE),--profile $(PROFILE))

lint: setup
	$(BIN)/ruff check .

validate: setup
	$(BIN)/rasa data validate --domain domain.yml --data data/nlu data/core --fail-on-warnings

test: train lint validate
	$(BIN)/pytest

bench: train
	$(PY) -m bench $(BENCH)

clean:
	rm -rf models results bench/out .pytest_cache
