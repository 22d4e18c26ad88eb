# Every target builds .venv itself when it is missing, so a fresh clone needs only `make run` or `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: run test bench index clean

$(BIN)/faultmaven-runbooks: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# The CPU build of torch first: an unpinned torch pulls gigabytes of CUDA packages.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

run: $(BIN)/faultmaven-runbooks
	HF_HUB_OFFLINE=1 $(BIN)/faultmaven-runbooks index
	HF_HUB_OFFLINE=1 $(BIN)/faultmaven-runbooks serve --transport streamable-http --host $(HOST) --port $(PORT)

# The MCP Inspector, an independent MCP client the tests drive (Node 24 comes from the venv).
INSPECTOR := .inspector/node_modules/@modelcontextprotocol/inspector/cli/build/cli.js
$(INSPECTOR):
	npm install --silent --no-audit --no-fund --prefix .inspector @modelcontextprotocol/inspector

test: $(BIN)/faultmaven-runbooks $(INSPECTOR)
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q

# Every benchmark prints its own table; the README's figures come from these (see README).
BENCHMARKS := retrieval_quality startup search_latency indexing http_load learning_replay executor_coverage adversarial_count
bench: $(BIN)/faultmaven-runbooks
	for b in $(BENCHMARKS); do echo "== $$b"; HF_HUB_OFFLINE=1 $(BIN)/python benchmarks/$$b.py || exit 1; done

index: $(BIN)/faultmaven-runbooks
	HF_HUB_OFFLINE=1 $(BIN)/faultmaven-runbooks index

clean:
	rm -rf $(VENV) .faultmaven
