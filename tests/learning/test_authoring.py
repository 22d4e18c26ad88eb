"""create_runbook / update_runbook: validation, stable ids, versions, diffs, concurrency."""

from __future__ import annotations

import multiprocessing
import os
import threading
from pathlib import Path

import pytest

from faultmaven_runbooks.errors import Conflict, InvalidInput, NotFound
from faultmaven_runbooks.service import RunbookService
from faultmaven_runbooks.settings import Settings

pytestmark = pytest.mark.both_stores  # on SQLite, and again on PostgreSQL (tests/conftest.py)

BODY = "# Kafka consumer lag\n\n## Steps\n1. Check lag: `kafka-consumer-groups --describe --group {group}`\n"


def test_create_writes_front_matter_and_indexes(fm_service):
    r = fm_service.authoring.create_runbook("Kafka consumer lag", BODY, type="dynamic", severity="high",
                                           tags=["kafka", "Lag"], metadata={"incident_id": "INC-1"})
    assert r.created and r.version == 1 and r.id == "kafka-consumer-lag"
    assert r.path == "dynamic/resolutions/manual/kafka-consumer-lag.md"
    rb = fm_service.library.get(r.id)
    assert rb.severity == "high" and rb.tags == ["kafka", "lag"] and rb.metadata["incident_id"] == "INC-1"
    assert rb.steps[0].placeholders == ["group"]
    assert r.indexed
    assert fm_service.search("kafka consumer group lag").results[0].id == r.id


@pytest.mark.parametrize("kwargs,message", [
    (dict(title="x"), "title"),
    (dict(content="short"), "content"),
    (dict(type="weird"), "type"),
    (dict(severity="urgent"), "severity"),
    (dict(tags=["ok", "bad tag!"]), "tag"),
    (dict(tags="kafka"), "tags"),
    (dict(metadata={"version": 9}), "own field"),
    (dict(metadata={"x": object()}), "JSON"),
    (dict(runbook_id="../../etc/passwd"), "runbook id"),
    (dict(runbook_id="Upper"), "runbook id"),
])
def test_create_validation(fm_service, kwargs, message):
    args = dict(title="Kafka consumer lag", content=BODY) | kwargs
    with pytest.raises(InvalidInput, match=message):
        fm_service.authoring.create_runbook(**args)


@pytest.mark.parametrize("folder", ["../outside", "/etc", "static/../../x", ".hidden"])
def test_path_traversal_is_refused(fm_service, folder):
    with pytest.raises(InvalidInput):
        fm_service.authoring.create_runbook("Kafka consumer lag", BODY, folder=folder)
    assert not any(Path(fm_service.settings.library_dir).parent.glob("outside*"))


def test_name_clashes_are_refused(fm_service):
    with pytest.raises(Conflict, match="pod-oomkilled"):
        fm_service.authoring.create_runbook("Pod OOMKilled", BODY, runbook_id="pod-oomkilled")
    fm_service.authoring.create_runbook("Kafka consumer lag", BODY)
    with pytest.raises(Conflict):
        fm_service.authoring.create_runbook("Kafka consumer lag", BODY)


def test_update_keeps_versions_history_and_diff(fm_service):
    a = fm_service.authoring
    a.create_runbook("Kafka consumer lag", BODY)
    r = a.update_runbook("kafka-consumer-lag", content=BODY + "2. Scale the consumers\n", note="add scaling",
                         author="alice")
    assert r.changed and r.version == 2
    r = a.update_runbook("kafka-consumer-lag", severity="critical", title="Kafka lag")
    assert r.version == 3
    rb = fm_service.library.get("kafka-consumer-lag")  # the id is stable across a title change
    assert rb.title == "Kafka lag" and rb.severity == "critical" and rb.version == 3
    h = a.history("kafka-consumer-lag")
    assert h["current_version"] == 3 and [v["version"] for v in h["versions"]] == [2, 1]  # newest first
    assert h["versions"][1]["replaced_by"] == "alice" and h["versions"][1]["note"] == "add scaling"
    d = a.diff("kafka-consumer-lag", 1, 2)
    assert "+2. Scale the consumers" in d["diff"] and not d["identical"]
    assert "-severity: medium" in a.diff("kafka-consumer-lag", 2)["diff"]
    assert a.version_text("kafka-consumer-lag", 1).count("Scale the consumers") == 0
    with pytest.raises(InvalidInput, match="does not exist"):
        a.diff("kafka-consumer-lag", 1, 7)


def test_update_of_a_shipped_runbook_without_versions_folder(fm_service):
    r = fm_service.authoring.update_runbook("pod-oomkilled", tags=["oom", "memory"])
    assert r.version == 2
    assert fm_service.authoring.history("pod-oomkilled")["versions"][0]["version"] == 1


def test_noop_update_and_conflicts(fm_service):
    a = fm_service.authoring
    a.create_runbook("Kafka consumer lag", BODY)
    assert not a.update_runbook("kafka-consumer-lag").changed
    with pytest.raises(Conflict, match="version 1, not 5"):
        a.update_runbook("kafka-consumer-lag", severity="low", expected_version=5)
    with pytest.raises(NotFound, match="search"):
        a.update_runbook("no-such-runbook", severity="low")
    a.update_runbook("kafka-consumer-lag", metadata={"owner": "team-a"})
    a.update_runbook("kafka-consumer-lag", metadata={"owner": None})
    assert "owner" not in fm_service.library.get("kafka-consumer-lag").metadata


def test_concurrent_updates_from_threads_lose_nothing(fm_service):
    a = fm_service.authoring
    a.create_runbook("Kafka consumer lag", BODY)
    errors = []

    def worker(n: int) -> None:
        other = RunbookService(fm_service.settings, clock=fm_service.clock)  # separate engines, same files
        try:
            other.authoring.update_runbook("kafka-consumer-lag", metadata={f"k{n}": n})
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            other.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    rb = fm_service.library.get("kafka-consumer-lag")
    assert {f"k{n}" for n in range(12)} <= set(rb.metadata)
    assert rb.version == 13
    history = a.history("kafka-consumer-lag", limit=10)
    rest = a.history("kafka-consumer-lag", limit=10, cursor=history["next_cursor"])
    assert [v["version"] for v in history["versions"] + rest["versions"]] == list(range(12, 0, -1))
    assert history["update_count"] == 12 and rest["next_cursor"] is None


def _process_worker(lib: str, data: str, database_url: str | None, n: int) -> None:
    settings = Settings(library_dir=Path(lib), data_dir=Path(data), embedding_model="hash:256",
                        database_url=database_url, _env_file=None)
    service = RunbookService(settings)
    service.reindex = lambda relpaths=None: None  # these workers test the runbook lock, not indexing
    service.authoring.update_runbook("kafka-consumer-lag", metadata={f"p{n}": n})
    service.close()


def test_concurrent_updates_from_processes_lose_nothing(fm_service):
    fm_service.authoring.create_runbook("Kafka consumer lag", BODY)
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_process_worker, args=(str(fm_service.settings.library_dir),
                                                      str(fm_service.settings.data_dir),
                                                      fm_service.settings.database_url, n)) for n in range(6)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert all(p.exitcode == 0 for p in procs)
    rb = fm_service.library.get("kafka-consumer-lag")
    assert {f"p{n}" for n in range(6)} <= set(rb.metadata) and rb.version == 7


def test_a_crash_mid_write_leaves_the_old_file(fm_service, monkeypatch):
    a = fm_service.authoring
    a.create_runbook("Kafka consumer lag", BODY)
    path = fm_service.settings.library_dir / "dynamic/resolutions/manual/kafka-consumer-lag.md"
    before = path.read_bytes()

    def crash(src, dst):
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        a.update_runbook("kafka-consumer-lag", severity="low")
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    r = a.update_runbook("kafka-consumer-lag", severity="low")  # and the next update still numbers right
    assert r.version == 2 and a.history("kafka-consumer-lag")["current_version"] == 2
