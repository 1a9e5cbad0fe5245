# The README's two commands: `make run` and `make test`. Both work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install migrate lint typecheck pytest bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/backchannel-server migrate

run: migrate
	$(BIN)/backchannel-server serve --host 127.0.0.1 --port 8000

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy app

pytest: install
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck pytest

# Benchmarks against a live server on 127.0.0.1; results and method in docs/benchmarks.md.
bench: install
	$(BIN)/python -m bench.rotation
	$(BIN)/python -m bench.entries_sync
	$(BIN)/python -m bench.feed_latency

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
