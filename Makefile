# HFT Simulator. `make run` and `make test` are all a new machine needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
STATIC := server/src/hftsim/web/static/index.html
PORT   ?= 8000

.PHONY: run test test-server test-client test-web test-e2e bench soak realism setup web chromium postgres lint api-docs clean

run: setup web
	$(BIN)/hftsim serve --host 127.0.0.1 --port $(PORT) --data-dir data

test: setup web chromium postgres
	$(MAKE) test-server test-client test-web test-e2e

test-server: setup postgres
	cd server && ../$(BIN)/python -m pytest -q

test-client: setup
	cd market-client && ../$(BIN)/python -m pytest -q

test-web: web/node_modules/.package-lock.json
	cd web && npm test

test-e2e: setup web chromium
	$(BIN)/python -m pytest -q tests/e2e

BENCH_ARGS ?=
bench: setup
	$(BIN)/python -m bench.run $(BENCH_ARGS)

SOAK_SECONDS ?= 600
soak: setup
	$(BIN)/python tests/soak/soak.py --seconds $(SOAK_SECONDS)

# The market's realism report (docs/realism/): every symbol, 3 seeds x 60 simulated minutes.
REALISM_ARGS ?=
realism: setup
	$(BIN)/hftsim realism $(REALISM_ARGS)

setup: $(STAMP)

$(STAMP): server/pyproject.toml market-client/pyproject.toml requirements-dev.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e 'server[postgres,cluster,realism]' -e market-client -r requirements-dev.txt
	touch $(STAMP)

web/node_modules/.package-lock.json: web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	touch $@

web: $(STATIC)

$(STATIC): web/node_modules/.package-lock.json $(shell find web/src web/index.html web/vite.config.ts -type f 2>/dev/null)
	cd web && npm run build

chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

# PostgreSQL server binaries for the tests that start a real server (they run it themselves).
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql; }

# The market-client API reference (HTML, from the docstrings) in market-client/build/api.
api-docs: setup
	$(BIN)/pdoc -o market-client/build/api market_client market_client.testing market_client.ccxt

lint: setup
	$(BIN)/ruff check server/src server/tests market-client/src market-client/tests
	$(BIN)/mypy --strict server/src/hftsim
	$(BIN)/mypy --strict market-client/src/market_client

clean:
	rm -rf $(VENV) web/node_modules server/src/hftsim/web/static
