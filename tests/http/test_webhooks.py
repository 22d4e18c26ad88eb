"""Alertmanager and n8n webhooks over real HTTP, with the real sample payloads."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

# The real Alertmanager payloads are evaluation data: read where CI keeps them (../shared beside
# the clone), never copied into the tests.
EVAL = Path(__file__).resolve().parents[3] / "shared" / "eval"
SAMPLES = sorted(p.name for p in EVAL.glob("alertmanager_webhook_sample*.json"))


def load_fixture(name: str) -> dict:
    return json.loads((EVAL / name).read_text())


def fixture_bytes(name: str) -> bytes:
    return (EVAL / name).read_bytes()


def test_all_samples_are_here():
    assert len(SAMPLES) == 8


@pytest.mark.parametrize("name", SAMPLES)
def test_alertmanager_samples(client, name):
    payload = load_fixture(name)
    # The .wire.json files are the bytes Alertmanager sends: post them as they are.
    r = client.post("/webhooks/alertmanager", content=fixture_bytes(name), headers={"content-type": "application/json"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["received"] == len(payload["alerts"]) == len(body["alerts"])
    assert body["status"] == payload["status"] and body["group_key"] == payload["groupKey"]
    for sent, got in zip(payload["alerts"], body["alerts"], strict=True):
        assert got["fingerprint"] == sent["fingerprint"] and got["status"] == sent["status"]
        assert got["alertname"] == "KubePodCrashLooping" and got["namespace"] == "payments"
        if sent["status"] == "firing":
            assert got["suggestions"], got
            assert got["suggestions"][0]["runbook"]["id"] == "pod-crashloop"
            assert got["suggestions"][0]["suggested_action"]["payload"].startswith("Show me runbook")
            assert got["execution"] is None or "skipped" in got["execution"]
        else:
            assert got["suggestions"] == [] and "resolved" in got["action"]
    assert body["firing"] == sum(a["status"] == "firing" for a in payload["alerts"])


def test_grouped_alerts_of_one_kind_are_searched_once_and_resends_not_at_all(client):
    payload = load_fixture("alertmanager_webhook_sample.json")
    for n, alert in enumerate(payload["alerts"]):  # alerts this server has not seen yet
        alert["fingerprint"] = f"searched-once-{n}"
    before = _searches(client)
    client.post("/webhooks/alertmanager", json=payload)
    assert _searches(client) == before + 1
    again = client.post("/webhooks/alertmanager", json=payload).json()  # group_interval later
    assert _searches(client) == before + 1 and [a["times_sent"] for a in again["alerts"]] == [2, 2]


def _searches(client) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith('faultmaven_searches_total{entry="webhook"}'):
            return float(line.split()[-1])
    return 0.0


def _mutate(fn):
    payload = copy.deepcopy(load_fixture("alertmanager_webhook_sample.json"))
    fn(payload)
    return payload


@pytest.mark.parametrize(
    "payload, needle",
    [
        (_mutate(lambda p: p.update(version="3")), "version"),
        (_mutate(lambda p: p.pop("version")), "version"),
        (_mutate(lambda p: p.update(alerts=[])), "alerts"),
        (_mutate(lambda p: p.update(status="exploded")), "status"),
        (_mutate(lambda p: p["alerts"][0]["labels"].pop("alertname")), "alertname"),
        (_mutate(lambda p: p["alerts"][0].update(labels=["not", "a", "map"])), "labels"),
        (_mutate(lambda p: p["alerts"][1].update(status="pending")), "alerts.1.status"),
    ],
)
def test_bad_alertmanager_payloads(client, payload, needle):
    r = client.post("/webhooks/alertmanager", json=payload)
    assert r.status_code == 400, r.text
    assert needle in r.json()["message"]


def test_unknown_fields_are_ignored(client):
    payload = _mutate(lambda p: p.update(futureField={"x": 1}) or p["alerts"][0].update(newThing=True))
    assert client.post("/webhooks/alertmanager", json=payload).status_code == 200


def test_too_many_alerts(client):
    payload = load_fixture("alertmanager_webhook_sample.json")
    payload["alerts"] = payload["alerts"] * 101
    r = client.post("/webhooks/alertmanager", json=payload)
    assert r.status_code == 400 and "limit is 200" in r.json()["message"]


def test_n8n_incident_spec_example(client):
    body = {"alert": {"type": "pod_crash", "severity": "high", "namespace": "production", "resource": "my-app-pod",
                      "description": "pod restarting in CrashLoopBackOff"},
            "context": {"cluster": "prod-cluster", "timestamp": "2024-01-15T10:30:00Z"}}
    r = client.post("/webhooks/n8n/incident", json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["suggestions"][0]["runbook"]["id"] == "pod-crashloop"
    assert out["context"]["cluster"] == "prod-cluster" and out["execution"] is None
    assert "pod_crash" in out["query"]


@pytest.mark.parametrize(
    "body, needle",
    [
        ({"context": {}}, "alert"),
        ({"alert": {}}, "type"),
        ({"alert": {"type": "x" * 300}}, "alert.type"),
        ({"alert": {"type": "pod_crash"}, "limit": 99}, "limit"),
    ],
)
def test_bad_n8n_incidents(client, body, needle):
    r = client.post("/webhooks/n8n/incident", json=body)
    assert r.status_code == 400, r.text
    assert needle in r.json()["message"]
