"""run_http in its own process, and the refusal to listen beyond loopback without a token."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from faultmaven_runbooks.adapters.http import UnsafeBind, build_app, check_bind, run_http
from tests.http.http_support import TOKEN, free_socket
from tests.serving import ServeProcess, wait_until_indexed

pytestmark = pytest.mark.long

LAUNCH = """
import sys
from faultmaven_runbooks.adapters.http import run_http
from faultmaven_runbooks.service import RunbookService
from faultmaven_runbooks.settings import Settings
sys.path.insert(0, {root!r})
from tests.http.http_support import make_mcp_server
settings = Settings(library_dir={library!r}, data_dir={data!r}, embedding_model="hash:256", auth_token={token!r})
service = RunbookService(settings)
service.warm_up()  # as `faultmaven-runbooks serve` does: index in the background from start
run_http(service, make_mcp_server(service), settings.replace(host="127.0.0.1", port={port}), transport={transport!r})
"""


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "runbooks.example.com"])
def test_refuses_public_bind_without_token(host):
    with pytest.raises(UnsafeBind, match="without an auth token"):
        check_bind(host, None)
    with pytest.raises(UnsafeBind, match="too short"):
        check_bind(host, "short")
    check_bind(host, TOKEN)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_needs_no_token(host):
    check_bind(host, None)


def test_build_app_and_run_http_refuse_too(http_service):
    open_settings = http_service.settings.replace(auth_token=None)
    with pytest.raises(UnsafeBind):
        build_app(http_service, None, open_settings, bind_host="0.0.0.0")
    with pytest.raises(UnsafeBind):  # raises before uvicorn would bind anything
        run_http(http_service, None, open_settings.replace(host="0.0.0.0", port=1))


@pytest.mark.parametrize("transport", ["streamable-http", "sse"])
def test_run_http_serves_everything_in_a_subprocess(http_library, tmp_path, transport):
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    script = LAUNCH.format(root=str(Path(__file__).resolve().parents[2]), library=str(http_library), data=str(tmp_path),
                           token=TOKEN, port=port, transport=transport)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "HF_HUB_OFFLINE": "1"})
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_indexed(base, proc)
        auth = {"Authorization": f"Bearer {TOKEN}"}
        assert httpx.get(f"{base}/runbooks/search", params={"q": "disk full"}, headers=auth).json()["results"][0]["id"] == "disk-full"
        # Both MCP transports answer, whichever flag was given.
        init = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
        r = httpx.post(f"{base}/mcp", json=init, headers={**auth, "accept": "application/json, text/event-stream"})
        assert r.status_code == 200 and "protocolVersion" in r.text
        with httpx.stream("GET", f"{base}/sse", headers=auth, timeout=10) as stream:
            assert stream.status_code == 200
            first = next(stream.iter_lines())
            assert first.startswith("event: endpoint")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
    banner = err.decode()
    expected_first = "/sse" if transport == "sse" else "/mcp"
    assert f"MCP at {base}{expected_first}" in banner, banner


def _young_collections(http: httpx.Client) -> float:
    metrics = http.get("/metrics").text
    return float(re.search(r'^python_gc_collections_total\{generation="0"\} (\S+)$', metrics, re.M).group(1))


def test_a_served_process_collects_garbage_again_once_it_serves(http_library, tmp_path):
    """`serve` pauses the garbage collector while it starts (memory.pause_collector); were it left
    paused, a server running for weeks would never free a reference cycle."""
    server = ServeProcess(http_library, tmp_path / "data", {})
    try:
        server.wait_until_indexed()
        with httpx.Client(base_url=server.url, timeout=30) as http:
            before = _young_collections(http)
            for i in range(30):
                assert http.get("/runbooks/search", params={"q": f"disk full {i}"}).status_code == 200
            after = _young_collections(http)
            assert "process_resident_memory_bytes" in http.get("/metrics").text
    finally:
        server.stop()
    assert after > before, (before, after)
