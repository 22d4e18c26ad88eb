"""Two replicas behind a load balancer that sends Alertmanager's notification to both at the same
moment (two Alertmanagers of an HA pair do exactly that): each a real `faultmaven-runbooks serve`
process, sharing one state database (one SQLite file, and again one PostgreSQL database). The
alert gets one triage record counted twice, one dry run, and one "new" notification at a real
local receiver."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest

from tests.alerts.conftest import Receiver
from tests.http.http_support import TOKEN, write_library
from tests.serving import ServeProcess

pytestmark = [pytest.mark.both_stores, pytest.mark.long]  # on SQLite, and again on PostgreSQL (tests/conftest.py)

API = {"Authorization": f"Bearer {TOKEN}"}
NOTIFICATION = {
    "version": "4", "status": "firing", "receiver": "runbooks", "groupKey": '{}:{namespace="payments"}',
    "alerts": [{"status": "firing", "fingerprint": "a1b2c3d4e5f60718",
                "labels": {"alertname": "KubePodCrashLooping", "namespace": "payments", "pod": "api-7d9f",
                           "severity": "warning"},
                "annotations": {"summary": "Pod is crash looping.", "description": "Pod payments/api-7d9f restarts."},
                "startsAt": "2031-05-17T09:12:00Z", "endsAt": "0001-01-01T00:00:00Z"}]}


@pytest.fixture
def replicas(tmp_path: Path, database_url):
    receiver = Receiver()
    library = write_library(tmp_path / "library")
    shared = database_url or f"sqlite:///{tmp_path / 'shared-state.db'}"
    env = {"FAULTMAVEN_RUNBOOKS_DATABASE_URL": shared, "FAULTMAVEN_RUNBOOKS_AUTH_TOKEN": TOKEN,
           "FAULTMAVEN_RUNBOOKS_WEBHOOK_DRY_RUN": "true", "FAULTMAVEN_RUNBOOKS_NOTIFY_WEBHOOK_URL": receiver.url()}
    servers: list[ServeProcess] = []
    try:
        for name in ("a", "b"):  # each its own data dir: only the database is shared
            servers.append(ServeProcess(library, tmp_path / f"data-{name}", env))
            servers[-1].wait_until_indexed()
        yield servers[0].url, servers[1].url, receiver
    finally:
        for server in servers:
            server.stop()
        receiver.close()


def test_one_notification_sent_to_both_replicas_at_once_is_one_alert(replicas):
    a, b, receiver = replicas
    barrier, answers = threading.Barrier(2), []

    def send(url: str) -> None:
        barrier.wait()
        answers.append(httpx.post(f"{url}/webhooks/alertmanager", json=NOTIFICATION, headers=API, timeout=60))

    threads = [threading.Thread(target=send, args=(url,)) for url in (a, b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [answer.status_code for answer in answers] == [200, 200], [answer.text for answer in answers]
    assert sorted(answer.json()["alerts"][0]["times_sent"] for answer in answers) == [1, 2]

    for url in (a, b):
        [record] = httpx.get(f"{url}/alerts", headers=API, timeout=30).json()["alerts"]
        assert (record["fingerprint"], record["times_sent"], record["status"]) == ("a1b2c3d4e5f60718", 2, "firing")
        assert record["dry_run_execution_id"]
        runs = httpx.get(f"{url}/runbooks/executions", headers=API, params={"limit": 50}, timeout=30).json()
        assert [e["execution_id"] for e in runs["executions"]] == [record["dry_run_execution_id"]]  # one dry run

    [told] = receiver.wait_for(1, timeout=20)[:1]
    assert (told.json()["transition"], told.json()["alert"]["fingerprint"]) == ("new", "a1b2c3d4e5f60718")
    assert len(receiver.wait_for(2, timeout=3)) == 1  # nobody told twice (a second delivery would land here)
