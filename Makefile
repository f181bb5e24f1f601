# ReviewDesk — the two commands of the README, and a few helpers.
#   make run   set up .venv, create the demo on an empty database, serve http://localhost:8501
#   make test  set up .venv with the test extras, then ruff and the whole pytest suite

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: run test lint bench clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "ReviewDesk needs $(PYTHON) (Python 3.11+); set PYTHON=..."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/reviewdesk init-demo --if-empty
	$(BIN)/streamlit run app.py --server.port=$(PORT)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

test: lint
	$(BIN)/python -m pytest

bench: $(VENV)/.installed-test
	$(BIN)/python bench/bench_engine.py
	$(BIN)/python bench/bench_saves.py
	$(BIN)/python bench/bench_imports.py
	$(BIN)/python bench/bench_votes.py
	$(BIN)/python bench/bench_browser.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
