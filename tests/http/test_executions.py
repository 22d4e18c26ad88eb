"""Executions over HTTP against the fake Kubernetes API: plan, dry run, and approval by a person
holding an approver credential (never the API token)."""

from __future__ import annotations

import httpx
import pytest

from faultmaven_runbooks.service import RunbookService
from tests.executor.fake_kube import FakeKube
from tests.http.http_support import TOKEN, load_fixture, make_settings, write_library

SCALE_RUNBOOK = """---
id: scale-web
title: Scale The Web Deployment
type: static
severity: medium
tags: [scaling]
---
# Scale The Web Deployment

## Diagnosis
Check the pod first:
`kubectl get pod {pod_name} -n {namespace}`

## Fix
Then add replicas:
`kubectl scale deployment/{deployment} --replicas=3 -n {namespace}`
"""
CONTEXT = {"namespace": "shop", "pod_name": "web-1", "deployment": "web"}


def _shop(fake: FakeKube) -> FakeKube:
    fake.add("deployments", {"metadata": {"name": "web", "namespace": "shop"},
                             "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}}})
    for ns, name in (("shop", "web-1"), ("payments", "checkout-api-7d9f8b6c5-m8p2z")):
        fake.add("pods", {"metadata": {"name": name, "namespace": ns, "labels": {"app": "web"}},
                          "spec": {"containers": [{"name": "app", "image": "shop/web:1.2"}]},
                          "status": {"phase": "Running", "containerStatuses": [
                              {"name": "app", "ready": False, "restartCount": 7,
                               "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}})
    return fake


@pytest.fixture(scope="module")
def ex(start_server, tmp_path_factory):
    kube = _shop(FakeKube()).start()
    library = write_library(tmp_path_factory.mktemp("exec-library"))
    (library / "static" / "scale-web.md").write_text(SCALE_RUNBOOK)
    kubeconfig = kube.kubeconfig(tmp_path_factory.mktemp("kube") / "config")
    service = RunbookService(make_settings(library, tmp_path_factory.mktemp("exec-data"), auth_token=TOKEN,
                                           kubeconfig=kubeconfig, webhook_dry_run=True, webhook_min_score=0.3))
    live = start_server(service=service, mcp=False)
    api = httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)
    anon = httpx.Client(base_url=live.url, timeout=60)
    yield kube, service, api, anon
    api.close()
    anon.close()
    kube.stop()


@pytest.fixture
def alice(ex):
    """An approver credential for the test, revoked after it."""
    _, service, _, _ = ex
    token = service.executions.approvers.add("alice")
    with httpx.Client(base_url=ex[2].base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as human:
        yield human
    service.executions.approvers.remove("alice")


def _start(api, **params) -> dict:
    r = api.post("/runbooks/execute", json={"runbook_id": "scale-web", "context": CONTEXT,
                                            "parameters": {"dry_run": False, "steps": [2], **params},
                                            "requester": "agent-1"})
    assert r.status_code == 200, r.text
    return r.json()


def _applied(kube) -> list[dict]:
    return [r for r in kube.changes() if "/scale" in r["path"]]


def test_default_run_reads_and_a_named_change_waits_with_its_diff(ex):
    kube, _, api, _ = ex
    reads = api.post("/runbooks/execute", json={"runbook_id": "scale-web", "context": CONTEXT}).json()
    assert reads["outcome"] == "ok" and [s["step"] for s in reads["steps"]] == [1]
    assert reads["options"][0]["steps"] == [2] and "owner" not in reads
    run = _start(api)
    assert run["status"] == "awaiting_approval" and run["requester"] == "rest:agent-1"
    assert run["steps"][0]["result"] == "pending_approval" and "replicas: 2" in run["steps"][0]["diff"]
    assert _applied(kube) == [] and kube.get("deployments", "web", "shop")["spec"]["replicas"] == 2
    assert api.get(f"/runbooks/executions/{run['execution_id']}").json()["status"] == "awaiting_approval"


def test_http_approval_is_off_until_an_approver_exists(ex):
    _, _, api, _ = ex
    run = _start(api)
    r = api.post(f"/runbooks/executions/{run['execution_id']}/approve", json={})
    assert r.status_code == 403 and "faultmaven-runbooks approvers add NAME" in r.json()["message"]


def test_only_an_approver_credential_approves(ex, alice):
    kube, _, api, anon = ex
    run = _start(api)
    url = f"/runbooks/executions/{run['execution_id']}/approve"
    agent = api.post(url, json={"approver": "alice"})  # the agent's API token, naming a person
    assert agent.status_code == 403 and "API token cannot approve" in agent.json()["message"]
    assert anon.post(url, json={}).status_code == 401
    assert anon.post(url, json={}, headers={"Authorization": "Bearer fmra_guessed"}).status_code == 401
    assert alice.post(url, json={"approver": "bob"}).status_code == 400  # identity comes from the credential
    assert _applied(kube) == []
    assert alice.get(f"/runbooks/executions/{run['execution_id']}").status_code == 200  # reviewing is allowed
    assert anon.get(f"/runbooks/executions/{run['execution_id']}").status_code == 401
    assert alice.post("/runbooks/execute", json={"runbook_id": "scale-web"}).status_code == 401  # nothing else
    r = alice.post(url, json={"reason": "capacity for the sale"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "completed" and body["approval"]["approver"] == "alice" and body["approval"]["via"] == "http"
    assert kube.get("deployments", "web", "shop")["spec"]["replicas"] == 3 and len(_applied(kube)) == 1
    again = alice.post(url, json={})
    assert again.status_code == 409 and again.json()["error"] == "conflict" and len(_applied(kube)) == 1
    metrics = api.get("/metrics").text
    assert 'faultmaven_approvals_total{decision="approve"}' in metrics


def test_reject_leaves_the_cluster_alone(ex, alice):
    kube, _, api, _ = ex
    applied = len(_applied(kube))
    run = _start(api)
    r = alice.post(f"/runbooks/executions/{run['execution_id']}/reject", json={"reason": "not now"})
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert len(_applied(kube)) == applied


def test_plan_runs_nothing_and_listing_pages(ex):
    kube, _, api, _ = ex
    seen = len(kube.requests)
    preview = api.post("/runbooks/plan", json={"runbook_id": "scale-web", "context": CONTEXT,
                                               "parameters": {"option": "A"}})
    assert preview.status_code == 200 and preview.json()["approvals_needed"] == [2]
    assert len(kube.requests) == seen
    _start(api), _start(api)  # two executions of its own: the listing does not lean on other tests
    first = api.get("/runbooks/executions", params={"limit": 1}).json()
    second = api.get("/runbooks/executions", params={"limit": 1, "cursor": first["next_cursor"]}).json()
    assert first["executions"][0]["execution_id"] != second["executions"][0]["execution_id"]
    assert api.get("/runbooks/executions", params={"cursor": "bogus"}).status_code == 400


@pytest.mark.parametrize(
    "body, status, needle",
    [
        ({"runbook_id": "no-such-runbook"}, 404, "no-such-runbook"),
        ({"runbook_id": ""}, 400, "runbook_id"),
        ({"runbook_id": "scale-web", "parameters": {"steps": "all"}}, 400, "steps"),
        ({"runbook_id": "scale-web", "parameters": {"mode": "yolo"}}, 400, "mode"),
        ({"runbook_id": "scale-web", "parameters": {"option": "Q"}}, 400, "no option"),
        ({"runbook_id": "scale-web", "parameters": {"steps": [1, 2], "approve": True}}, 400, "approve"),
        ({"runbook_id": "scale-web", "context": ["namespace"]}, 400, "context"),
        ({"context": {}}, 400, "runbook_id"),
    ],
)
def test_bad_executions(ex, body, status, needle):
    _, _, api, _ = ex
    r = api.post("/runbooks/execute", json=body)
    assert r.status_code == status, r.text
    assert needle in r.json()["message"]


def test_bad_approvals_and_lookups(ex, alice):
    _, _, api, _ = ex
    assert alice.post("/runbooks/executions/exec-000000000000/approve", json={}).status_code == 404
    assert api.get("/runbooks/executions/exec-000000000000").status_code == 404
    assert api.get("/runbooks/executions/../../etc/passwd").status_code in (400, 404)
    assert api.get("/runbooks/executions", params={"limit": 0}).status_code == 400


def test_alertmanager_webhook_starts_a_read_only_run(ex):
    kube, _, api, _ = ex
    payload = load_fixture("alertmanager_webhook_sample_partially_resolved.json")
    r = api.post("/webhooks/alertmanager", json=payload)
    assert r.status_code == 200, r.text
    resolved, firing = r.json()["alerts"]
    assert resolved["execution"] is None
    run = firing["execution"]
    assert run["runbook_id"] == "pod-crashloop" and run["requester"] == "alertmanager:Default"
    assert run["dry_run"] is True and run["status"] != "awaiting_approval"
    assert all(s["classification"] != "change" for s in run["steps"])  # a webhook never plans a change
    pod = payload["alerts"][1]["labels"]["pod"]
    assert any(pod in r["path"] for r in kube.requests)
    assert api.get(f"/runbooks/executions/{run['execution_id']}").status_code == 200
