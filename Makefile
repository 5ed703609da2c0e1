# HFT Simulator. `make run` and `make test` are all a new machine needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
RUNTIME := $(VENV)/.runtime
STAMP  := $(VENV)/.installed
COMPILED := $(VENV)/.compiled-built
SIM    := $(VENV)/.sim-built
STATIC := server/src/hftsim/web/static/index.html
PORT   ?= 8000
say     = @printf '\033[1m==> %s\033[0m\n'

.PHONY: run smoke test test-server test-client test-web test-e2e bench soak realism setup runtime web wheel chromium postgres compiler lint api-docs clean

# `run` needs only the runtime packages; the test and lint tools come with `setup` (make test / lint / bench).
run: runtime $(COMPILED) $(SIM) web
	$(say) "starting the exchange on http://127.0.0.1:$(PORT) (data in ./data; Ctrl-C stops it)"
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

# A fresh clone's first `make run` (about a minute): steps announced, banner, /healthz, runtime only.
smoke: runtime
	$(BIN)/python tests/smoke/fresh_clone.py

SOAK_SECONDS ?= 600
soak: setup
	$(BIN)/python tests/soak/soak.py --seconds $(SOAK_SECONDS)
	$(BIN)/python -m bench.journal --tails $(SOAK_SECONDS)

# The market's realism report (docs/realism/): every symbol, 6 seeds x 60 simulated minutes,
# and the slow facts (square-root impact from paired runs, the intraday U-shape over a day a seed).
REALISM_ARGS ?=
realism: setup
	$(BIN)/hftsim realism --slow $(REALISM_ARGS)

runtime: $(RUNTIME)

$(RUNTIME): server/pyproject.toml market-client/pyproject.toml constraints.txt
	$(say) "[1/3] Python environment in $(VENV)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install -q --disable-pip-version-check --upgrade pip
	$(say) "[2/3] runtime packages: the server (FastAPI, uvicorn, argon2, psycopg) and the Python SDK"
	@$(BIN)/pip install -q --disable-pip-version-check -c constraints.txt -e 'server[postgres]' -e market-client
	@touch $(RUNTIME)

setup: $(STAMP) $(COMPILED) $(SIM)

# Tests, lint, benchmarks and reports also need the cluster and realism extras and the dev tools.
$(STAMP): $(RUNTIME) server/pyproject.toml requirements-dev.txt constraints.txt
	$(say) "test and lint tools (pytest, hypothesis, playwright, mypy, ruff) and the cluster and realism extras"
	@$(BIN)/pip install -q --disable-pip-version-check -c constraints.txt -e 'server[postgres,cluster,realism]' -r requirements-dev.txt
	@touch $(STAMP)

# The engine core and the gateway's order path compiled with mypyc, as one group. Optional: without it the server
# runs the same code as plain Python (and says so at start), so a failed build is reported, not fatal. The stamps
# take the time a build started, so a source edited while it ran is rebuilt by the next `make setup`.
$(COMPILED): $(RUNTIME) server/build_compiled.py server/src/hftsim/compiled.py server/src/hftsim/store/codec.py \
		server/src/hftsim/engine/commands.py \
		$(wildcard server/src/hftsim/engine/core/*.py server/src/hftsim/gateway/*.py server/src/hftsim/protocol/*.py)
	@$(MAKE) --no-print-directory compiler
	@$(BIN)/pip install -q --disable-pip-version-check -c constraints.txt mypy setuptools
	@echo "compiling the engine core and the gateway's order path with mypyc (a minute or two)"
	@started=$$(date +%s.%N); \
	if $(BIN)/python server/build_compiled.py order >$(VENV)/compiled-build.log 2>&1; then touch -d "@$$started" $@; tail -n 1 $(VENV)/compiled-build.log; \
	else echo "the compiled build failed (see $(VENV)/compiled-build.log); the server runs the engine core and the gateway as plain Python"; fi

# The agents' simulation core compiled with mypyc: optional too (plain Python runs the same tape, slower).
# Its compiled code checks what it reads from the engine (commands, events, results) against the types it was
# compiled with, so it is rebuilt when they change, not only when its own sources do.
$(SIM): $(RUNTIME) server/build_compiled.py server/src/hftsim/compiled.py server/src/hftsim/engine/commands.py \
		$(wildcard server/src/hftsim/sim/*.py server/src/hftsim/sim/agents/*.py server/src/hftsim/engine/core/*.py)
	@$(MAKE) --no-print-directory compiler
	@$(BIN)/pip install -q --disable-pip-version-check -c constraints.txt mypy setuptools
	@started=$$(date +%s.%N); \
	if $(BIN)/python server/build_compiled.py sim >$(VENV)/sim-build.log 2>&1; then touch -d "@$$started" $@; tail -n 1 $(VENV)/sim-build.log; \
	else echo "sim: the compiled simulation did not build (see $(VENV)/sim-build.log); the agents run as plain Python"; fi

# A C compiler and Python's headers for the compiled engine core and gateway (Debian's packages when missing).
compiler:
	@command -v cc >/dev/null 2>&1 && $(BIN)/python -c "import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()['include'], 'Python.h')))" \
	|| { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q gcc python3-dev; } || true

web/node_modules/.package-lock.json: web/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "The website is built with Node.js >= 20 (npm), which is not installed: see https://nodejs.org, or install the wheels built elsewhere with 'make wheel' (see the README)."; exit 1; }
	$(say) "[3/3] website: npm packages, then the build"
	@cd web && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

web: $(STATIC)

$(STATIC): web/node_modules/.package-lock.json $(shell find web/src web/index.html web/vite.config.ts -type f 2>/dev/null)
	$(say) "building the website into server/src/hftsim/web/static"
	@cd web && npm run --silent build -- --logLevel warn

# The server's wheel, with the built website inside, and the SDK's: `pip install` them where there is no
# Node.js, then `hftsim serve`.
wheel: runtime web
	$(BIN)/pip wheel -q --disable-pip-version-check --no-deps -w dist ./server ./market-client
	@rm -rf server/build market-client/build
	@ls dist/*.whl

chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

# PostgreSQL server binaries for the tests that start a real server (they run it themselves).
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql; }

# The market-client API reference (HTML, from the docstrings) in market-client/build/api.
api-docs: setup
	$(BIN)/pdoc -o market-client/build/api market_client market_client.testing market_client.ccxt

# Every Python file we ship: the server, the SDK, the benchmarks and the end-to-end, smoke and soak tests.
PY_TREES := server market-client bench tests
lint: setup
	$(BIN)/ruff check $(PY_TREES)
	$(BIN)/ruff format --check $(PY_TREES)
	cd server && ../$(BIN)/mypy
	cd server && ../$(BIN)/mypy tests/sim/*.py
	cd market-client && ../$(BIN)/mypy
	$(BIN)/mypy

clean:
	rm -rf $(VENV) web/node_modules server/src/hftsim/web/static dist server/build server/src/*.so server/src/hftsim/engine/core/*.so \
		server/src/hftsim/gateway/*.so server/src/hftsim/protocol/*.so server/src/hftsim/store/*.so
