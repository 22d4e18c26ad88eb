"""Analytics in the state store; backups with the database, retention, and a restore that puts the
library and the learned state back without rewinding history."""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest

from faultmaven_runbooks.adapters.cli.backups import add_cli
from faultmaven_runbooks.errors import InvalidInput, NotFound
from faultmaven_runbooks.ops.analytics import Analytics
from faultmaven_runbooks.ops.backups import Backups
from faultmaven_runbooks.settings import LearningSettings

pytestmark = pytest.mark.both_stores  # on SQLite, and again on PostgreSQL (tests/conftest.py)


def _resolved(service, incident_id: str, runbook: str | None, duration: str) -> None:
    service.learning.learn({"id": incident_id, "type": "container memory exceeded", "diagnosis": ["memory limit"],
                            "resolution": ["raise_limit"], "success": True, "duration": duration,
                            "runbook_used": runbook}, {})


def test_analytics_report(fm_service, clock):
    a = fm_service.analytics
    a.record_retrieval(["pod-oomkilled", "pod-oomkilled", "node-disk-pressure"])
    a.record_execution("pod-oomkilled", True, 30)
    a.record_execution("pod-oomkilled", False, 10)
    _resolved(fm_service, "INC-1", "pod-oomkilled", "5m")
    _resolved(fm_service, "INC-2", None, "30m")
    fm_service.authoring.update_runbook("pod-oomkilled", tags=["oom"])  # an update verifies it: today
    clock.advance(days=40)
    a.flush()  # retrievals are buffered in memory between flushes
    report = Analytics(fm_service.store, fm_service.library, clock).report("pod-oomkilled")  # read back
    row, = report["runbooks"]
    assert row["retrievals"] == 1 and row["executions"] == 2 and row["execution_success_rate"] == 0.5
    assert row["update_count"] == 1 and row["last_verified"] == "2031-05-17" and row["avg_resolution_seconds"] == 300
    assert row["last_executed"] == "2031-05-17T09:30:00+00:00"
    assert report["resolution_time"]["with_runbook_avg_seconds"] == 300
    assert report["resolution_time"]["without_runbook_avg_seconds"] == 1800
    assert fm_service.store.usage.get("pod-oomkilled")["executions"] == 2  # in the state store, shared by replicas
    with pytest.raises(NotFound):
        a.report("nope")
    with pytest.raises(InvalidInput):
        a.record_execution("pod-oomkilled", True, -1)


def test_learned_resolutions_feed_analytics_and_count_once(fm_service):
    _resolved(fm_service, "INC-7", "pod-oomkilled", "10m")
    _resolved(fm_service, "INC-8", "pod-oomkilled", "20m")
    _resolved(fm_service, "INC-8", "pod-oomkilled", "20m")  # re-sent: no second count
    times = fm_service.analytics.report()["resolution_time"]
    assert times["resolutions_with_runbook"] == 2 and times["with_runbook_avg_seconds"] == 900
    row = fm_service.analytics.report("pod-oomkilled")["runbooks"][0]
    assert row["resolutions"] == 2 and row["avg_resolution_seconds"] == 900
    _resolved(fm_service, "INC-8", None, "40m")  # corrected: resolved without the runbook after all
    times = fm_service.analytics.report()["resolution_time"]
    assert times["resolutions_with_runbook"] == 1 and times["resolutions_without_runbook"] == 1
    assert times["without_runbook_avg_seconds"] == 2400


def test_analytics_pages_with_a_cursor(fm_service):
    a = fm_service.analytics
    first = a.report(limit=3)
    assert len(first["runbooks"]) == 3 and first["total"] == 4 and first["next_cursor"]
    second = a.report(limit=3, cursor=first["next_cursor"])
    assert [r["id"] for r in second["runbooks"]] == ["pod-oomkilled"] and second["next_cursor"] is None
    seen = [r["id"] for r in first["runbooks"] + second["runbooks"]]
    assert seen == sorted(seen) and len(set(seen)) == 4
    with pytest.raises(InvalidInput, match="omit it"):
        a.report(cursor="garbage!")
    history_cursor = fm_service.authoring.history("pod-oomkilled")["next_cursor"]
    assert history_cursor is None
    with pytest.raises(InvalidInput, match="another list"):
        a.report(cursor=fm_service.learning.get_patterns(limit=1)["next_cursor"] or "WyJwYXR0ZXJucyIsMV0")


def test_search_counts_retrievals(fm_service):
    fm_service.search("container OOMKilled exit code 137")
    row = fm_service.analytics.report("pod-oomkilled")["runbooks"][0]
    assert row["retrievals"] == 1 and row["last_retrieved"]


def test_stale_flags(fm_service):
    a = Analytics(fm_service.store, fm_service.library, fm_service.clock, LearningSettings(stale_days=1))
    fm_service.authoring.update_runbook("node-disk-pressure", metadata={"last_verified": "2020-01-01"})
    fm_service.authoring.update_runbook("image-pull-backoff", metadata={"status": "deprecated"})
    for ok in (False, False, False, True):
        a.record_execution("pod-crashloopbackoff", ok)
    report = a.report()
    rows = {r["id"]: r for r in report["runbooks"]}
    assert "last verified" in rows["node-disk-pressure"]["stale_reason"] or \
        "not verified" in rows["node-disk-pressure"]["stale_reason"]
    assert rows["image-pull-backoff"]["stale_reason"] == "status is deprecated"
    assert "3 of 4 executions failed" in rows["pod-crashloopbackoff"]["stale_reason"]
    stale = a.report(stale_only=True)
    assert {r["id"] for r in stale["runbooks"]} >= {"node-disk-pressure", "image-pull-backoff", "pod-crashloopbackoff"}
    assert stale["total"] == report["stale_count"] and all(r["stale"] for r in stale["runbooks"])


def tree(root: Path, skip=("backups", "chroma", "locks")) -> dict[str, str]:
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if p.is_file() and rel.parts[0] not in skip and not p.name.endswith(".lock"):
            out[rel.as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _audit(service) -> list[dict]:
    out = io.StringIO()
    service.store.audit.export_jsonl(out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_restore_round_trip_rewinds_library_and_learning_never_history(fm_service, clock):
    learning, store = fm_service.learning, fm_service.store
    learning.learn({"id": "INC-1", "type": "disk_full", "diagnosis": ["logs filled disk"],
                    "resolution": ["rotate_logs"], "success": True}, {})
    store.audit.append("test.before_backup", execution_id="exec-000000000001")
    lib = fm_service.settings.library_dir
    snap_lib, patterns = tree(lib), learning.get_patterns()
    b = fm_service.backups.backup("daily")
    on_sqlite = store.dialect == "sqlite"
    assert b["files"] == len(snap_lib) + (1 if on_sqlite else 0)
    assert b["database"] == "included" if on_sqlite else "pg_dump" in b["database"]
    # Damage: change, add and delete files; learn more; the log grows.
    (lib / "static/compute/pod-oomkilled.md").write_text("# gone\n\nreplaced by a broken edit\n")
    (lib / "static/compute/node-disk-pressure.md").unlink()
    fm_service.authoring.create_runbook("Temporary runbook", "# Temporary\n\nsome words about zebras\n")
    clock.advance(minutes=5)
    learning.learn({"id": "INC-2", "type": "image_pull", "diagnosis": ["tag missing in registry"],
                    "resolution": ["fix_tag"], "success": True}, {})
    store.audit.append("test.after_backup", execution_id="exec-000000000002")
    log_before_restore = _audit(fm_service)
    result = fm_service.backups.restore(b["name"])
    assert tree(lib) == snap_lib
    assert result["reindexed"] and result["pre_restore_backup"].startswith("pre-restore/")
    assert _audit(fm_service) == log_before_restore  # not one entry rewound, none added twice
    if on_sqlite:  # learned state is the archive's again (PostgreSQL's is pg_dump's to restore)
        assert learning.get_patterns() == patterns and store.incidents.get("INC-2") is None
        assert result["changed"]["state"]["added"]["audit_entries"] == 0
    hits = [h.id for h in fm_service.search("zebras").results]
    assert "temporary-runbook" not in hits
    assert fm_service.search("node DiskPressure eviction").results[0].id == "node-disk-pressure"


def test_a_restore_into_a_fresh_database_brings_history_back(fm_service, fm_settings, tmp_path):
    """A lost state database: the archive's executions and audit entries come back, in order."""
    if fm_service.store.dialect != "sqlite":
        pytest.skip("archives hold the state only on SQLite; PostgreSQL is restored with pg_restore")
    store = fm_service.store
    for n in range(3):
        store.audit.append("test.event", execution_id=f"exec-00000000000{n}", n=n)
    b = fm_service.backups.backup("weekly")
    archive = fm_settings.data_dir / "backups" / b["name"]
    fm_service.close()
    for name in ("state.db", "state.db-wal", "state.db-shm"):
        (fm_settings.data_dir / name).unlink(missing_ok=True)
    from faultmaven_runbooks.service import RunbookService

    fresh = RunbookService(fm_settings)
    fresh.store.audit.append("test.after_loss")
    fresh.backups.restore(b["name"], reindex=False)
    events = [(e["event"], e.get("n")) for e in _audit(fresh)]
    assert events == [("test.after_loss", None)] + [("test.event", n) for n in range(3)]
    assert archive.exists()
    fresh.close()


def test_a_restore_into_a_fresh_database_keeps_delivered_notifications_delivered(fm_service, fm_settings):
    """The delivery log is history: a lost database restored from an archive must not send a
    notification that was delivered before the loss again (its claim is refused), and the rows
    the new database wrote since keep theirs."""
    if fm_service.store.dialect != "sqlite":
        pytest.skip("archives hold the state only on SQLite; PostgreSQL is restored with pg_restore")
    event = {"fingerprint": "3f9c2a1b7d4e5f60", "transition": "new"}
    fm_service.store.deliveries.claim("3f9c:new", "slack", event)
    fm_service.store.deliveries.delivered("3f9c:new", "slack")
    b = fm_service.backups.backup("weekly")
    fm_service.close()
    for name in ("state.db", "state.db-wal", "state.db-shm"):
        (fm_settings.data_dir / name).unlink(missing_ok=True)
    from faultmaven_runbooks.service import RunbookService

    fresh = RunbookService(fm_settings)
    fresh.store.deliveries.claim("77aa:new", "webhook", {**event, "fingerprint": "77aa"})  # takes the first seq
    result = fresh.backups.restore(b["name"], reindex=False)
    assert result["changed"]["state"]["added"]["notification_deliveries"] == 1
    assert fresh.store.deliveries.claim("3f9c:new", "slack", event) is False  # not sent a second time
    assert fresh.store.deliveries.get("3f9c:new", "slack").status == "delivered"
    assert fresh.store.deliveries.get("77aa:new", "webhook").status == "pending"
    fresh.close()


def test_retention_and_listing(fm_service):
    backups = Backups(fm_service.settings.library_dir, fm_service.settings.data_dir, fm_service.store,
                      features=LearningSettings(keep_daily=2))
    names = [backups.backup("daily")["name"] for _ in range(4)]
    listed = [b["name"] for b in backups.list() if b["kind"] == "daily"]
    assert listed == sorted(names[-2:], reverse=True)
    backups.backup("monthly")
    assert {b["kind"] for b in backups.list()} == {"daily", "monthly"}


@pytest.mark.parametrize("name", ["../../etc/passwd", "daily/../../x.tar.gz", "/tmp/x.tar.gz",
                                  "weekly/daily-20260101T000000000000Z.tar.gz"])
def test_restore_refuses_bad_names(fm_service, name):
    with pytest.raises(InvalidInput):
        fm_service.backups.restore(name)


def test_restore_refuses_tampered_and_malicious_archives(fm_service):
    b = fm_service.backups.backup("weekly")
    path = fm_service.settings.data_dir / "backups" / b["name"]
    before = tree(fm_service.settings.library_dir)
    # A member whose bytes no longer match the manifest.
    with tarfile.open(path) as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for m, data in members:
            if m.name.startswith("library/"):
                data = b"tampered"
                m.size = len(data)
            tar.addfile(m, io.BytesIO(data))
    path.write_bytes(buf.getvalue())
    with pytest.raises(InvalidInput, match="checksum"):
        fm_service.backups.restore(b["name"])
    # A tar-slip entry.
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name in ("MANIFEST.json", "library/../../evil.md"):
            data = b'{"files": {}}' if name == "MANIFEST.json" else b"x"
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    path.write_bytes(buf.getvalue())
    with pytest.raises(InvalidInput, match="unsafe"):
        fm_service.backups.restore(b["name"])
    assert tree(fm_service.settings.library_dir) == before
    assert not (fm_service.settings.library_dir.parent / "evil.md").exists()


def test_cli_backup_and_restore(fm_service, capsys):
    parser = argparse.ArgumentParser()
    add_cli(parser.add_subparsers(dest="command"), lambda args: fm_service)
    args = parser.parse_args(["backup", "--kind", "weekly"])
    assert args.func(args) == 0
    name = json.loads(capsys.readouterr().out)["name"]
    args = parser.parse_args(["backup", "--list"])
    args.func(args)
    assert name in capsys.readouterr().out
    (fm_service.settings.library_dir / "static/compute/pod-oomkilled.md").unlink()
    args = parser.parse_args(["restore", name, "--no-reindex"])
    assert args.func(args) == 0
    assert (fm_service.settings.library_dir / "static/compute/pod-oomkilled.md").exists()
