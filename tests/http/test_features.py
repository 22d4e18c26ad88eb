"""Authoring, learning and case endpoints over real HTTP, on a writable copy of the library."""

from __future__ import annotations

import httpx
import pytest

from faultmaven_runbooks.service import RunbookService
from tests.http.http_support import TOKEN, make_settings, write_library

NEW_RUNBOOK = {
    "title": "Kafka Consumer Lag Growing",
    "type": "dynamic",
    "severity": "high",
    "content": "# Kafka Consumer Lag Growing\n\n## Steps\n1. Check lag with `kubectl logs deploy/consumer -n {namespace}`\n"
               "2. Scale consumers: `kubectl scale deployment/consumer --replicas=6 -n {namespace}`\n",
    "tags": ["kafka", "lag"],
    "metadata": {"incident_id": "INC-12345", "resolved_by": "ai-agent", "confidence": 0.85},
}

CASE = {
    "case_id": "case_0123456789ab",
    "title": "Memcached evictions spike after cache key change",
    "state": "resolved",
    "problem_verification": {
        "symptom_statement": "Memcached evictions spike and hit ratio falls to 20 percent after the release",
        "affected_services": ["memcached"],
        "severity": "HIGH",
    },
    "root_cause_conclusion": {"root_cause": "Cache keys include a timestamp, so nothing is ever reused",
                              "confidence_level": "verified"},
    "solutions": [{"solution_id": "sol_1", "solution_type": "code_fix", "title": "Remove the timestamp from keys",
                   "immediate_action": "Roll back the release",
                   "commands": ["kubectl rollout undo deployment/web -n shop"]}],
}


@pytest.fixture(scope="module")
def rw(start_server, tmp_path_factory):
    library = write_library(tmp_path_factory.mktemp("rw-library"))
    service = RunbookService(make_settings(library, tmp_path_factory.mktemp("rw-data"), auth_token=TOKEN))
    live = start_server(service=service, mcp=False)
    with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60) as c:
        yield c


def test_create_then_find_read_and_update(rw):
    r = rw.post("/runbooks/create", json=NEW_RUNBOOK)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["id"] == "kafka-consumer-lag-growing" and created["created"] and created["indexed"]
    hits = rw.get("/runbooks/search", params={"q": "kafka consumer lag"}).json()["results"]
    assert hits[0]["id"] == created["id"]
    page = rw.get(f"/runbooks/{created['id']}").json()
    assert page["metadata"]["incident_id"] == "INC-12345"

    r = rw.put(f"/runbooks/{created['id']}", json={"severity": "critical", "note": "pages at night", "expected_version": 1})
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2 and r.json()["changed"]
    r = rw.put(f"/runbooks/{created['id']}", json={"severity": "low", "expected_version": 1})
    assert r.status_code == 409 and r.json()["error"] == "conflict" and "version 2" in r.json()["message"]
    r = rw.post("/runbooks/create", json=NEW_RUNBOOK)
    assert r.status_code == 409 and "already exists" in r.json()["message"]


def test_faultmaven_create(rw):
    r = rw.post("/api/v1/runbooks", json={"title": "Etcd Leader Changes", "content": "## Check\n`kubectl get pods -n kube-system`",
                                           "severity": "critical", "domain": "compute", "service": "etcd"})
    assert r.status_code == 201, r.text
    got = rw.get(f"/api/v1/runbooks/{r.json()['id']}").json()
    assert got["severity"] == "critical" and got["metadata"]["service"] == "etcd"


@pytest.mark.parametrize(
    "method, path, body, needle",
    [
        ("post", "/runbooks/create", {"title": "No content"}, "content"),
        ("post", "/runbooks/create", {"title": "Valid title", "content": "x", "type": "weird"}, "type"),
        ("post", "/runbooks/create", {"title": "Valid title", "content": "x", "tags": "not-a-list"}, "tags"),
        ("post", "/runbooks/create", {"title": "Valid title", "content": "## Steps\nA long enough body of text.", "folder": "../../etc"}, "folder"),
        ("post", "/runbooks/create", {"title": "Valid title", "content": "x", "unknown_field": 1}, "unknown_field"),
        ("put", "/runbooks/redis-oom", {}, "nothing to update"),
        ("put", "/runbooks/redis-oom", {"id": "renamed"}, "ids are stable"),
        ("put", "/runbooks/redis-oom", {"expected_version": 0}, "expected_version"),
        ("post", "/runbooks/learn", {"context": {}}, "incident_data"),
        ("post", "/runbooks/learn", {"incident_data": "pod crashed"}, "incident_data"),
        ("post", "/api/v1/cases/case_0123456789ab/runbook", {"case": {**CASE, "case_id": "case_other"}}, "does not match"),
        ("post", "/api/v1/cases/case_0123456789ab/runbook", {**CASE, "state": "investigating"}, "not resolved"),
    ],
)
def test_bad_writes_are_400s_that_say_why(rw, method, path, body, needle):
    r = rw.request(method.upper(), path, json=body)
    assert r.status_code == 400, r.text
    assert needle in r.json()["message"], r.json()


def test_update_unknown_runbook_is_404(rw):
    r = rw.put("/runbooks/no-such-thing", json={"severity": "low"})
    assert r.status_code == 404


def test_learn_and_patterns(rw):
    incident = {"incident_data": {"type": "pod_crash", "diagnosis": ["memory_limit_exceeded"],
                                  "resolution": ["increase_memory_limit"], "success": True, "duration": "5m"},
                "context": {"namespace": "production", "pod_type": "web-app"}}
    first = rw.post("/runbooks/learn", json=incident)
    assert first.status_code == 200, first.text
    for key in ("pattern_detected", "pattern_id", "confidence", "new_runbook_created", "runbook_id", "recommendations"):
        assert key in first.json()
    second = rw.post("/runbooks/learn", json=incident).json()
    assert second["pattern_id"] == first.json()["pattern_id"] and second["pattern_detected"]
    patterns = rw.get("/runbooks/patterns")
    assert patterns.status_code == 200
    assert first.json()["pattern_id"] in str(patterns.json())


def test_case_becomes_a_draft_runbook_once(rw):
    r = rw.post(f"/api/v1/cases/{CASE['case_id']}/runbook", json=CASE)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["created"] and made["draft"] and made["status"] == "created"
    again = rw.post(f"/api/v1/cases/{CASE['case_id']}/runbook", json={"case": CASE})
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "existing" and again.json()["runbook_id"] == made["runbook_id"]
    forced = rw.post(f"/api/v1/cases/{CASE['case_id']}/runbook", json={"case": CASE, "force": True})
    assert forced.status_code == 201 and forced.json()["runbook_id"] != made["runbook_id"]


def test_backups_and_storage_usage(rw):
    assert rw.get("/storage/backups").json()["count"] == 0
    r = rw.post("/storage/backups", json={"kind": "weekly"})
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["name"].startswith("weekly/") and made["files"] > 0
    assert rw.post("/storage/backups").status_code == 201  # empty body: a daily backup
    listed = rw.get("/storage/backups").json()
    assert {b["kind"] for b in listed["backups"]} == {"weekly", "daily"}
    usage = rw.get("/storage/usage").json()["storage"]["backups"]
    assert usage["files"] >= 2 and usage["bytes"] >= sum(b["bytes"] for b in listed["backups"]) > 0
    bad = rw.post("/storage/backups", json={"kind": "hourly"})
    assert bad.status_code == 400 and "kind" in bad.json()["message"]


def test_analytics_counts_retrievals(rw):
    before = rw.get("/runbooks/analytics", params={"runbook_id": "disk-full"})
    assert before.status_code == 200, before.text
    for _ in range(3):
        rw.get("/runbooks/search", params={"q": "NodeFilesystemSpaceFillingUp disk full"})
    after = rw.get("/runbooks/analytics", params={"runbook_id": "disk-full"}).json()
    assert "disk-full" in str(after) and after != before.json()
    assert rw.get("/runbooks/analytics", params={"bogus": "1"}).status_code == 400
