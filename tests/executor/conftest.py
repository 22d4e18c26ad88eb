"""Executor fixtures: a fake Kubernetes API server on 127.0.0.1 and services pointed at it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from kubernetes import client as k8s

from faultmaven_runbooks.executor.policy import Policy
from faultmaven_runbooks.executor.service import ExecutionService
from faultmaven_runbooks.service import RunbookService
from faultmaven_runbooks.settings import Settings

from .fake_kube import CTX, NS, POD, FakeKube, seed  # noqa: F401  (re-exported for the tests)

HERE = Path(__file__).parent
SHIPPED = HERE.parent.parent / "runbooks"


@pytest.fixture
def kube():
    fake = seed(FakeKube()).start()
    yield fake
    fake.stop()


@pytest.fixture
def exec_library(tmp_path) -> Path:
    """The sampler fixture and the shipped crash-loop runbook, copied so tests may edit and add
    runbooks. Not the whole shipped library: the first lookup of an id parses every file, which
    was most of each executor test's time (benchmarks/executor_coverage.py plans every shipped
    runbook)."""
    root = tmp_path / "library"
    shutil.copytree(HERE / "fixtures" / "library", root)
    shutil.copy(SHIPPED / "static" / "compute" / "pod-crashloopbackoff.md", root / "static")
    return root


@pytest.fixture
def sampler_library(tmp_path) -> Path:
    """The sampler runbook alone: for the tests that start `serve` processes, which index their
    whole library at start."""
    root = tmp_path / "sampler-library"
    shutil.copytree(HERE / "fixtures" / "library", root)
    return root


@pytest.fixture
def exec_settings(tmp_path, exec_library, database_url) -> Settings:
    return Settings(library_dir=exec_library, data_dir=tmp_path / "data", kubeconfig=None, embedding_model="hash:256",
                    database_url=database_url)


@pytest.fixture
def runbook_service(exec_settings, clock) -> RunbookService:
    service = RunbookService(exec_settings, clock=clock)
    yield service
    service.close()


@pytest.fixture
def make_executor(runbook_service, kube):
    """Executors on the service's library, state store and clock, pointed at the fake cluster."""
    made = []

    def make(policy: Policy | None = None, host: str | None = None) -> ExecutionService:
        svc = runbook_service.make_executions(policy=policy,
                                              kube_configuration=k8s.Configuration(host=host or kube.url))
        made.append(svc)
        return svc

    yield make
    for svc in made:
        svc.close()


@pytest.fixture
def executor(make_executor) -> ExecutionService:
    return make_executor()
