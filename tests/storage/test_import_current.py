"""A data dir of the last file-store release (fixtures/filestore-main, written by that release's
own code and frozen) imports without loss, and the features carry on from it: a re-sent
incident takes back exactly what it counted before the move, an approver's token still
approves, the executions and the audit log read as they were."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import shutil
from pathlib import Path

import pytest

from faultmaven_runbooks.service import RunbookService

from .legacy import FIXTURES

ROOT = Path(__file__).resolve().parents[2]
ALICE = "fmra_i64-icVG4tEqkmOPsn52f1_iOQDHqdTFMroWfZZ8SgM"  # printed by `approvers add` when the fixture was made


@pytest.fixture
def old_service(db_settings, tmp_path, clock, caplog):
    library = tmp_path / "library"
    shutil.copytree(ROOT / "runbooks", library)
    shutil.copytree(ROOT / "tests" / "executor" / "fixtures" / "library", library, dirs_exist_ok=True)
    data = tmp_path / "data"
    shutil.copytree(FIXTURES / "filestore-main", data, copy_function=shutil.copy2)
    caplog.set_level(logging.INFO, "faultmaven_runbooks.storage")
    service = RunbookService(db_settings.model_copy(update={"library_dir": library, "data_dir": data}), clock=clock)
    yield service
    service.close()


def _files() -> dict:
    root = FIXTURES / "filestore-main"
    audit = []
    for line in (root / "audit" / "executions.jsonl").read_text().splitlines():
        try:
            audit.append(json.loads(line))
        except ValueError:
            pass  # the torn last line
    return {"learning": json.loads((root / "cache" / "patterns.json").read_text()),
            "metrics": json.loads((root / "cache" / "metrics.json").read_text()),
            "approvers": json.loads((root / "approvers.json").read_text())["approvers"],
            "executions": {p.stem: json.loads(p.read_text()) for p in (root / "executions").glob("exec-*.json")},
            "audit": audit}


def test_everything_the_files_held_is_in_the_store(old_service, caplog):
    want, store = _files(), old_service.store
    learning = want["learning"]
    assert store.incidents.total() == learning["incidents"] == 9
    for pid, pattern in learning["patterns"].items():
        assert store.patterns.get(pid).pattern == pattern
    for incident_id, record in learning["learned"].items():  # what each incident counted, to take it back
        assert store.incidents.get(incident_id).data == record
    assert store.outcomes.resolutions() == learning["resolutions"]
    assert store.outcomes.runbooks() == learning["runbooks"]
    un = learning["unassisted"]
    assert store.usage.unassisted() == {"resolutions": un["resolved"], "seconds_total": un["seconds_total"],
                                        "timed": un["timed"]}
    usage = store.usage.all()
    for runbook_id, row in want["metrics"]["runbooks"].items():
        assert {k: usage[runbook_id][k] for k in row} == row
    [alice] = store.approvers.list()
    assert (alice.name, alice.token_hash) == ("alice", want["approvers"]["alice"]["sha256"])
    stored = {e.execution_id: e for e in store.executions.page(limit=50).items}
    assert {i: e.record for i, e in stored.items()} == want["executions"]
    assert {e.status for e in stored.values()} == {"completed", "awaiting_approval", "applying", "failed"}
    assert {e.cluster for e in stored.values()} == {want["executions"][next(iter(stored))]["cluster"]["server"]}
    out = io.StringIO()
    assert store.audit.export_jsonl(out) == len(want["audit"])
    assert [json.loads(line) for line in out.getvalue().splitlines()] == want["audit"]
    summary = next(r.getMessage() for r in caplog.records if r.getMessage().startswith("imported old state"))
    assert '"approvers": 1' in summary and '"incident_records": 8' in summary and "executions.jsonl line 19" in summary
    data = old_service.settings.data_dir
    assert (data / "approvers.json.imported").exists() and not (data / "approvers.json").exists()


def test_the_features_carry_on_from_the_imported_state(old_service):
    learning = old_service.learning
    before = learning.get_patterns()
    assert before["total_incidents"] == 9
    assert learning.runbook_stats("pod-oomkilled") == {"uses": 1, "resolved": 1, "failed": 0, "success_rate": 1.0,
                                                       "avg_resolution_seconds": 180.0}
    # INC-1 was sent twice before the move (failed, then resolved with the runbook). Sent again
    # as a failure: the imported outcome comes out, this one goes in, nothing counts twice.
    again = learning.learn({"id": "INC-1", "type": "pod_crash", "symptoms": ["OOMKilled events", "exit code 137"],
                            "diagnosis": ["memory_limit_exceeded"], "resolution": ["increase_memory_limit"],
                            "success": False, "duration": "3m", "runbook_used": "pod-oomkilled"},
                           {"namespace": "production", "pod_type": "web-app"})
    assert again.updated and again.pattern_id == "memory-limit-exceeded-web-app"
    after = learning.get_patterns()
    assert after["total_incidents"] == 9
    pattern = after["incident_patterns"]["memory-limit-exceeded-web-app"]
    assert pattern["frequency"] == before["incident_patterns"]["memory-limit-exceeded-web-app"]["frequency"]
    assert learning.runbook_stats("pod-oomkilled")["failed"] == 1
    assert old_service.executions.approvers.identify(ALICE) == "alice"  # the token still approves
    assert old_service.executions.approvers.identify(ALICE + "x") is None
    assert hashlib.sha256(ALICE.encode()).hexdigest() == old_service.store.approvers.list()[0].token_hash
    history = old_service.authoring.history("pod-oomkilled")
    assert [v["version"] for v in history["versions"]] == [2, 1] and history["versions"][1]["replaced_by"] == "alice"
    report = old_service.analytics.report("pod-oomkilled")["runbooks"][0]
    assert report["retrievals"] == 2 and report["executions"] == 1 and report["update_count"] == 2


def test_records_of_incidents_past_the_patterns_recent_list_are_imported_too(db_settings, tmp_path, clock):
    """The file kept a pattern's last 20 incident ids but a record for every incident: all are
    imported, the unlisted (older) ones first, so the newest stay the newest."""
    from faultmaven_runbooks.storage import open_store

    data = tmp_path / "data"
    shutil.copytree(FIXTURES / "filestore-main", data)
    learning = json.loads((data / "cache" / "patterns.json").read_text())
    pattern = learning["patterns"]["memory-limit-exceeded-web-app"]
    pattern["incidents"] = pattern["incidents"][-2:]  # as after more than 20 incidents
    (data / "cache" / "patterns.json").write_text(json.dumps(learning))
    store = open_store(db_settings.model_copy(update={"data_dir": data}), clock)
    for incident_id, record in learning["learned"].items():
        assert store.incidents.get(incident_id).data == record
    assert store.incidents.recent_ids("memory-limit-exceeded-web-app", 3) == ["INC-6", "INC-5", "INC-4"]
    store.close()
