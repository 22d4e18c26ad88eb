"""Executions over HTTP against a small Kubernetes API server: plan, dry run, human approval."""

from __future__ import annotations

import httpx
import pytest

from faultmaven_runbooks.adapters.http import HttpSettings
from faultmaven_runbooks.service import RunbookService
from tests.http.http_support import (
    APPROVER_TOKEN, TOKEN, LiveServer, attach_features, load_fixture, make_settings, write_library,
)
from tests.http.kube_stub import KubeStub

SCALE_RUNBOOK = """---
id: scale-web
title: Scale The Web Deployment
type: static
severity: medium
tags: [scaling]
---
# Scale The Web Deployment

## Steps
Check the pod first:
`kubectl get pod {pod_name} -n {namespace}`

Then add replicas:
`kubectl scale deployment/{deployment} --replicas=3 -n {namespace}`
"""

CONTEXT = {"namespace": "shop", "pod_name": "web-1", "deployment": "web"}


@pytest.fixture(scope="module")
def cluster():
    stub = KubeStub()
    live = LiveServer(stub.app()).start()
    yield stub, live
    live.stop()


@pytest.fixture(scope="module")
def ex(cluster, start_server, tmp_path_factory):
    try:
        from kubernetes.client import Configuration

        from faultmaven_runbooks.executor.service import ExecutionService
    except ImportError:
        pytest.skip("the executor is not in this checkout")
    stub, kube = cluster
    library = write_library(tmp_path_factory.mktemp("exec-library"))
    (library / "static" / "scale-web.md").write_text(SCALE_RUNBOOK)
    service = RunbookService(make_settings(library, tmp_path_factory.mktemp("exec-data"), auth_token=TOKEN))
    service.executions = ExecutionService(service.settings, service, kube_configuration=Configuration(host=kube.url))
    attach_features(service)
    live = start_server(service=service, mcp=False,
                        http=HttpSettings(approval_token=APPROVER_TOKEN, webhook_dry_run=True, webhook_min_score=0.3))
    api = httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)
    human = httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {APPROVER_TOKEN}"}, timeout=60)
    yield stub, api, human
    api.close()
    human.close()


def _start(api, **params) -> dict:
    r = api.post("/runbooks/execute", json={"runbook_id": "scale-web", "context": CONTEXT,
                                            "parameters": {"dry_run": False, **params}, "requester": "agent-1"})
    assert r.status_code == 200, r.text
    return r.json()


def test_execute_plans_reads_and_dry_runs_changes(ex):
    stub, api, _ = ex
    before = len(stub.patches(dry_run=True))
    run = _start(api)
    assert run["status"] == "awaiting_approval" and run["execution_id"].startswith("exec-")
    first, second = run["steps"]
    assert first["result"] == "success" and "web-1" in first["output"]
    assert second["result"] == "pending_approval" and "replicas: 2" in second["diff"]
    assert len(stub.patches(dry_run=True)) == before + 1 and stub.patches(dry_run=False) == []
    assert stub.replicas["web"] == 2
    listed = api.get("/runbooks/executions", params={"limit": 5}).json()
    assert run["execution_id"] in str(listed)
    assert api.get(f"/runbooks/executions/{run['execution_id']}").json()["status"] == "awaiting_approval"


def test_approval_needs_the_human_token_and_another_person(ex):
    stub, api, human = ex
    run = _start(api)
    url = f"/runbooks/executions/{run['execution_id']}/approve"
    r = api.post(url, json={"approver": "alice"})  # the agent's token cannot approve (self-approval)
    assert r.status_code == 401 and "approval token" in r.json()["message"]
    r = human.post(url, json={"approver": "agent-1"})  # the requester cannot approve its own plan
    assert r.status_code == 403 and "another person" in r.json()["message"]
    assert stub.patches(dry_run=False) == []
    r = human.post(url, json={"approver": "alice", "reason": "capacity for the sale"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "completed" and stub.replicas["web"] == 3
    assert len(stub.patches(dry_run=False)) == 1
    again = human.post(url, json={"approver": "bob"})
    assert again.status_code == 409 and again.json()["error"] == "conflict"
    metrics = api.get("/metrics").text
    assert 'faultmaven_approvals_total{decision="approve"}' in metrics
    assert 'faultmaven_executions_total{outcome="awaiting_approval",via="rest"}' in metrics


def test_reject_leaves_the_cluster_alone(ex):
    stub, api, human = ex
    stub.replicas["web"] = 2
    applied = len(stub.patches(dry_run=False))
    run = _start(api)
    r = human.post(f"/runbooks/executions/{run['execution_id']}/reject", json={"approver": "alice", "reason": "not now"})
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert len(stub.patches(dry_run=False)) == applied and stub.replicas["web"] == 2


@pytest.mark.parametrize(
    "body, status, needle",
    [
        ({"runbook_id": "no-such-runbook"}, 404, "no-such-runbook"),
        ({"runbook_id": ""}, 400, "runbook_id"),
        ({"runbook_id": "scale-web", "parameters": {"steps": "all"}}, 400, "steps"),
        ({"runbook_id": "scale-web", "parameters": {"mode": "yolo"}}, 400, "mode"),
        ({"runbook_id": "scale-web", "context": ["namespace"]}, 400, "context"),
        ({"context": {}}, 400, "runbook_id"),
    ],
)
def test_bad_executions(ex, body, status, needle):
    _, api, _ = ex
    r = api.post("/runbooks/execute", json=body)
    assert r.status_code == status, r.text
    assert needle in r.json()["message"]


def test_bad_approvals_and_lookups(ex):
    _, api, human = ex
    assert human.post("/runbooks/executions/exec-000000000000/approve", json={"approver": "alice"}).status_code == 404
    r = human.post("/runbooks/executions/exec-000000000000/approve", json={})
    assert r.status_code == 400 and "approver" in r.json()["message"]
    assert api.get("/runbooks/executions/exec-000000000000").status_code == 404
    r = api.get("/runbooks/executions/../../etc/passwd")
    assert r.status_code in (400, 404)
    assert api.get("/runbooks/executions", params={"limit": 0}).status_code == 400


def test_alertmanager_webhook_starts_a_dry_run_when_configured(ex):
    stub, api, _ = ex
    payload = load_fixture("alertmanager_webhook_sample_partially_resolved.json")
    r = api.post("/webhooks/alertmanager", json=payload)
    assert r.status_code == 200, r.text
    resolved, firing = r.json()["alerts"]
    assert resolved["execution"] is None
    run = firing["execution"]
    assert run["runbook_id"] == "pod-crashloop" and run["requester"] == "alertmanager:Default"
    assert run["dry_run"] is True and run["status"] != "awaiting_approval"
    pod = payload["alerts"][1]["labels"]["pod"]
    assert any(pod in path for _, path, _ in stub.requests)
    assert api.get(f"/runbooks/executions/{run['execution_id']}").status_code == 200
