"""Real HTTP servers on 127.0.0.1 (uvicorn in a thread) over a real RunbookService."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx
import pytest

from faultmaven_runbooks.adapters.http import build_app
from faultmaven_runbooks.adapters.metrics import Metrics
from faultmaven_runbooks.service import RunbookService
from tests.http.http_support import TOKEN, LiveServer, make_mcp_server, make_settings, write_library


@pytest.fixture(scope="session")
def http_library(tmp_path_factory) -> Path:
    return write_library(tmp_path_factory.mktemp("library"))


@pytest.fixture(scope="session")
def http_service(http_library, tmp_path_factory) -> RunbookService:
    settings = make_settings(http_library, tmp_path_factory.mktemp("data"), auth_token=TOKEN)
    service = RunbookService(settings)
    service.ready()
    return service


@pytest.fixture(scope="session")
def start_server(http_service):
    """Factory: a live server for given settings overrides (flat names, e.g. webhook_dry_run=True);
    all stopped at the end."""
    started: list[LiveServer] = []

    def start(service=None, mcp=True, read_only=False, **settings_overrides) -> LiveServer:
        service = service or http_service
        settings = service.settings.replace(**settings_overrides)
        metrics = Metrics()
        mcp_server = make_mcp_server(service, metrics) if mcp else None
        app = build_app(service, mcp_server, settings, metrics=metrics, read_only=read_only)
        live = LiveServer(app).start()
        started.append(live)
        return live

    yield start
    for live in started:
        live.stop()


@pytest.fixture(scope="session")
def live(start_server) -> LiveServer:
    """The default server: auth token required."""
    return start_server()


@pytest.fixture(scope="session")
def tls() -> ssl.SSLContext:
    """One TLS context for the test clients (the servers are plain HTTP): httpx would otherwise
    load the CA bundle again for each new client, about 20 ms each."""
    return ssl.create_default_context()


@pytest.fixture
def client(live, tls):
    with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30, verify=tls) as c:
        yield c


@pytest.fixture
def anon(live, tls):
    with httpx.Client(base_url=live.url, timeout=30, verify=tls) as c:
        yield c


