"""Alerts in, people told, end to end: Alertmanager notifications posted to the real webhook route
of a served app, triage records in the real state store (SQLite and PostgreSQL), notifications
counted at a real local receiver."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path

import httpx
import pytest

from faultmaven_runbooks.adapters.http import build_app
from faultmaven_runbooks.adapters.metrics import Metrics
from faultmaven_runbooks.service import RunbookService
from tests.alerts.conftest import Reply
from tests.http.http_support import TOKEN, LiveServer, write_library

API = {"Authorization": f"Bearer {TOKEN}"}
FAST = {"notify_backoff_seconds": 0.02, "notify_backoff_max_seconds": 0.2, "notify_timeout_seconds": 2.0,
        "notify_drain_seconds": 2.0}


def notification(*alerts: dict, status: str = "firing") -> dict:
    """An Alertmanager v4 notification in the shape Alertmanager sends (our own fixture)."""
    return {"version": "4", "status": status, "receiver": "runbooks", "groupKey": '{}:{namespace="payments"}',
            "groupLabels": {"namespace": "payments"}, "commonLabels": {"namespace": "payments"},
            "commonAnnotations": {}, "externalURL": "http://alertmanager.example:9093", "truncatedAlerts": 0,
            "alerts": list(alerts)}


def crashloop(fingerprint: str, pod: str, status: str = "firing") -> dict:
    return {"status": status, "fingerprint": fingerprint,
            "labels": {"alertname": "KubePodCrashLooping", "namespace": "payments", "pod": pod, "severity": "warning"},
            "annotations": {"summary": "Pod is crash looping.", "description": f"Pod payments/{pod} restarts."},
            "startsAt": "2031-05-17T09:12:00.123456789Z",
            "endsAt": "2031-05-17T09:41:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example:9090/graph?g0.expr=up"}


@pytest.fixture
def served(tmp_path: Path, clock, db_settings, receivers):
    """Factory: a served app (real uvicorn) over a service whose generic webhook posts to `receiver`."""
    made: list[tuple[RunbookService, LiveServer]] = []

    def serve(receiver, **overrides) -> tuple[RunbookService, str]:
        library = write_library(tmp_path / "library") if not (tmp_path / "library").exists() else tmp_path / "library"
        settings = db_settings.replace(library_dir=library, auth_token=TOKEN, notify_webhook_url=receiver.url(),
                                       **{**FAST, **overrides})
        service = RunbookService(settings, clock=clock)
        service.ready()
        service.open_state().join(30)
        live = LiveServer(build_app(service, None, settings, metrics=Metrics())).start()
        made.append((service, live))
        return service, live.url

    yield serve
    for service, live in made:
        live.stop()
        service.close()


def post(url: str, payload: dict) -> httpx.Response:
    answer = httpx.post(f"{url}/webhooks/alertmanager", json=payload, headers=API, timeout=60)
    assert answer.status_code == 200, answer.text
    return answer


def settle(service: RunbookService, receiver, count: int) -> list:
    """The receiver's requests once the notifier is idle (and nothing more arrives)."""
    assert service.notifier() is not None and service.notifier().wait_idle(20)
    time.sleep(0.2)  # a wrong extra delivery would land here
    return receiver.wait_for(count, timeout=5)


def test_one_notification_per_new_alert_none_for_resends_one_on_resolve(served, receivers, clock):
    receiver = receivers()
    service, url = served(receiver)
    first = post(url, notification(crashloop("aa01", "api-1"), crashloop("aa02", "api-2"))).json()
    assert [a["times_sent"] for a in first["alerts"]] == [1, 1]
    assert len(settle(service, receiver, 2)) == 2

    clock.advance(minutes=5)  # Alertmanager's group_interval: the same group again
    again = post(url, notification(crashloop("aa01", "api-1"), crashloop("aa02", "api-2"))).json()
    assert [a["times_sent"] for a in again["alerts"]] == [2, 2]
    assert again["alerts"][0]["suggestions"] == first["alerts"][0]["suggestions"]
    assert "re-send" in again["alerts"][0]["message"]
    assert len(settle(service, receiver, 2)) == 2  # nobody told twice

    clock.advance(minutes=24)
    post(url, notification(crashloop("aa01", "api-1", "resolved"), status="resolved"))
    sent = settle(service, receiver, 3)
    bodies = [r.json() for r in sent]
    assert [(b["transition"], b["alert"]["fingerprint"]) for b in bodies] == [
        ("new", bodies[0]["alert"]["fingerprint"]), ("new", bodies[1]["alert"]["fingerprint"]), ("resolved", "aa01")]
    assert {b["alert"]["fingerprint"] for b in bodies[:2]} == {"aa01", "aa02"}
    assert bodies[0]["runbook"]["id"] == "pod-crashloop"

    listed = httpx.get(f"{url}/alerts", headers=API, params={"status": "resolved"}).json()
    assert [a["fingerprint"] for a in listed["alerts"]] == ["aa01"]
    record = httpx.get(f"{url}/alerts/aa01", headers=API).json()
    # From Alertmanager's startsAt 09:12 to its endsAt 09:41.
    assert (record["status"], record["times_sent"]) == ("resolved", 2)
    assert record["resolution_seconds"] == pytest.approx(29 * 60, abs=1)
    assert record["suggestions"][0]["runbook"]["id"] == "pod-crashloop" and record["runbook_used"] is False
    firing = httpx.get(f"{url}/alerts", headers=API, params={"status": "firing"}).json()
    assert [a["fingerprint"] for a in firing["alerts"]] == ["aa02"]
    missing = httpx.get(f"{url}/alerts/nope", headers=API)
    assert missing.status_code == 404 and "list_alerts" in missing.json()["message"]


def test_a_receiver_failing_three_times_then_answering_gets_exactly_one_delivery(served, receivers):
    receiver = receivers(Reply(503), Reply(500), Reply(502))
    service, url = served(receiver)
    post(url, notification(crashloop("bb01", "api-1")))
    sent = settle(service, receiver, 4)
    assert len(sent) == 4 and len({r.body for r in sent}) == 1  # the same notification, tried four times
    [record] = service.store.deliveries.page(status="delivered").items
    assert record.event_key.startswith("bb01:") and record.attempts == 4


def test_a_receiver_that_is_down_does_not_delay_the_webhook(served, receivers):
    receiver = receivers(default=Reply(hang=True))
    service, url = served(receiver, notify_timeout_seconds=20.0)
    started = time.monotonic()
    post(url, notification(*(crashloop(f"cc{n:02d}", f"api-{n}") for n in range(5))))
    assert time.monotonic() - started < 10  # answered while every notification hangs
    receiver.wait_for(5)
    assert len(receiver.requests) == 5


def test_oversized_alerts_are_cut_with_a_warning_not_refused(served, receivers):
    receiver = receivers()
    service, url = served(receiver)
    alert = crashloop("dd01", "api-1")
    alert["labels"].update({f"label_{n:04d}": "x" * 50 for n in range(3000)})
    alert["annotations"]["description"] = "y" * 200_000
    answer = post(url, notification(alert)).json()["alerts"][0]
    assert any("3004 labels" in w for w in answer["warnings"]), answer["warnings"]
    assert any("description" in w for w in answer["warnings"])
    record = httpx.get(f"{url}/alerts/dd01", headers=API).json()
    assert len(record["labels"]) == 100 and record["labels"]["alertname"] == "KubePodCrashLooping"
    assert len(record["annotations"]["description"]) == 4000


@pytest.mark.parametrize("mutate, field", [
    (lambda p: p["alerts"][0].update(fingerprint="has spaces"), "alerts.0.fingerprint"),
    (lambda p: p["alerts"][0].update(labels={"alertname": "X", "n": 5}), "alerts.0.labels.n"),
    (lambda p: p.pop("alerts"), "alerts"),
])
def test_unknown_shapes_get_a_400_naming_the_field(served, receivers, mutate, field):
    _, url = served(receivers())
    payload = copy.deepcopy(notification(crashloop("ee01", "api-1")))
    mutate(payload)
    answer = httpx.post(f"{url}/webhooks/alertmanager", content=json.dumps(payload), headers=API)
    assert answer.status_code == 400 and field in answer.json()["message"], answer.text


def test_resolution_times_feed_the_analytics_with_and_without_a_runbook(served, receivers, clock):
    service, url = served(receivers(), webhook_dry_run=True)
    unmatched = {**crashloop("gg02", "api-2"), "labels": {"alertname": "Zqxv", "namespace": "payments"},
                 "annotations": {}, "startsAt": "2031-05-17T09:00:00Z"}
    answer = post(url, notification(crashloop("gg01", "api-1"), unmatched)).json()["alerts"]
    assert answer[0]["execution"]["execution_id"] and "execution_id" not in (answer[1]["execution"] or {})
    clock.advance(minutes=30)
    closed = {**unmatched, "status": "resolved", "endsAt": "2031-05-17T10:00:00Z"}
    post(url, notification(crashloop("gg01", "api-1", "resolved"), closed, status="resolved"))
    report = httpx.get(f"{url}/runbooks/analytics", headers=API, params={"limit": 1}).json()
    assert len(report["runbooks"]) == 1  # still one page of runbooks: the alert figures are totals
    assert report["resolution_time"]["alerts"] == {  # 09:12:00.123 to 09:41, 09:00 to 10:00
        "with_runbook_avg_seconds": 1739.9, "with_runbook_avg": "29m", "alerts_resolved_with_runbook": 1,
        "without_runbook_avg_seconds": 60 * 60.0, "without_runbook_avg": "1h", "alerts_resolved_without_runbook": 1}
