# The README's two commands: `make run` and `make test`. Both work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
WEB_STAMP := web/node_modules/.installed

.PHONY: run test install dist migrate lint typecheck pytest web-deps web-test web-browser web-e2e bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Editable: app/bundled/ links to migrations/ and web/ (setup.py), so edits show at once. The
# links include web/node_modules' libsodium.js build, so a fresh clone fetches it first.
$(STAMP): pyproject.toml setup.py $(WEB_STAMP) | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[server,dev]'
	touch $(STAMP)

install: $(STAMP)

# The sdist and the wheel, in dist/ (the wheel carries the web client: web-deps first).
dist: install web-deps
	$(BIN)/python -m build --installer uv --outdir dist

migrate: install
	$(BIN)/backchannel-server migrate

run: migrate web-deps
	$(BIN)/backchannel-server serve --host 127.0.0.1 --port 8000

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy app

pytest: install web-deps
	$(BIN)/pytest $(PYTEST_ARGS)

# The browser client's dependencies, exactly as web/package-lock.json pins them.
$(WEB_STAMP): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	touch $(WEB_STAMP)

web-deps: $(WEB_STAMP)

web-test: web-deps
	cd web && node --test --test-reporter=dot

# Debian's chromium drives the browser tests (browsers cannot be downloaded here).
web-browser:
	@test -x /usr/bin/chromium || (apt-get update -qq && apt-get install -y -qq chromium)

# The browser client end to end: three browser contexts and the CLI against a live server.
web-e2e: install web-deps web-browser
	cd web && node e2e/run.js && node e2e/release.js

test: lint typecheck pytest web-test web-e2e

# Benchmarks against a live server on 127.0.0.1; results and method in docs/benchmarks.md.
# All of them run; `make bench` fails if any missed its goal (each says which). The soak runs
# 10 minutes with its faults, restarting the machine's PostgreSQL cluster once (bench/soak.py).
BENCHES := http_ceiling rotation entries_sync feed_latency voprf name_check registration_flood takedown_flood sealed moderation_list full_read soak
bench: install web-deps
	@rc=0; for b in $(BENCHES); do $(BIN)/python -m bench.$$b || rc=1; done; exit $$rc

clean:
	rm -rf $(VENV) var dist build .pytest_cache .mypy_cache .ruff_cache web/node_modules
