"""Console fixtures: a library of our own (the executor's sampler, the shared fixture runbooks
and a draft written from a case), the fake Kubernetes API behind the service, approvers."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from faultmaven_runbooks.service import RunbookService
from faultmaven_runbooks.settings import Settings
from tests.executor import conftest as executor_fixtures
from tests.executor.fake_kube import FakeKube

TESTS = Path(__file__).resolve().parent.parent
kube = executor_fixtures.kube  # the fake Kubernetes API server, as the executor's tests start it
DRAFT = """---
id: draft-oom-after-cache-growth
title: Pods OOMKilled after the session cache grew
type: dynamic
severity: high
tags: [kubernetes, memory, oom]
status: draft
version: 1
created: 2031-05-16
last_updated: 2031-05-16
generated_by: faultmaven-case
source_case: case-4711
---
# Pods OOMKilled after the session cache grew

## Problem Summary
Containers of the web deployment are OOMKilled by the kernel: the in-memory session cache grew
past the memory limit after a release.

## Solution
Raise the memory limit and cap the cache size.
"""


@pytest.fixture
def ui_library(tmp_path) -> Path:
    root = tmp_path / "library"
    shutil.copytree(TESTS / "fixtures" / "library" / "static", root / "static")
    shutil.copytree(TESTS / "executor" / "fixtures" / "library", root, dirs_exist_ok=True)
    draft = root / "dynamic" / "resolutions" / "auto-generated" / "draft-oom-after-cache-growth.md"
    draft.parent.mkdir(parents=True)
    draft.write_text(DRAFT)
    return root


@pytest.fixture
def kube_settings(ui_library, tmp_path, kube) -> Settings:
    return Settings(library_dir=ui_library, data_dir=tmp_path / "data", embedding_model="hash:256",
                    kubeconfig=kube.kubeconfig(tmp_path / "kubeconfig"))


@pytest.fixture
def ui_service(kube_settings, clock) -> RunbookService:
    service = RunbookService(kube_settings, clock=clock)
    service.reindex()
    return service


API_TOKEN = "api-token-the-agent-holds-0123456789"


class ConsoleServer:
    """The real app (REST, MCP, console) on a real loopback port, over the fake cluster."""

    def __init__(self, service: RunbookService, kube: FakeKube):
        from faultmaven_runbooks.adapters.http import build_app
        from faultmaven_runbooks.adapters.mcp.server import build_server
        from tests.http.http_support import LiveServer

        self.service, self.kube = service, kube
        self.tokens = {name: service.executions.approvers.add(name) for name in ("alice", "bob")}
        self.live = LiveServer(build_app(service, build_server(service), service.settings)).start()
        self.url = self.live.url

    def plan_change(self, requester: str = "mcp-client") -> str:
        """An execution of the sampler's pod delete, waiting for a person (as an agent leaves it)."""
        from faultmaven_runbooks.api.executions import ExecuteRequest
        from tests.executor.fake_kube import CTX

        record = self.service.execute(ExecuteRequest(runbook_id="exec-sampler", context=CTX, requester=requester,
                                                     parameters={"dry_run": False, "steps": [10]}))
        assert record.status == "awaiting_approval", record.message
        return record.execution_id


@pytest.fixture
def console(kube_settings, clock, kube):
    service = RunbookService(kube_settings.replace(auth_token=API_TOKEN), clock=clock)
    service.reindex()
    server = ConsoleServer(service, kube)
    yield server
    server.live.stop()


@pytest.fixture(scope="module")
def browser():
    from .browser import Browser

    b = Browser()
    yield b
    b.quit()


@pytest.fixture
def web(browser):
    """The module's browser with no cookies left from another test's server (cookies ignore ports)."""
    browser.driver.delete_all_cookies()
    browser.console_errors()  # drop what earlier tests logged
    return browser
