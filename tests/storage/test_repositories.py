"""Each repository's behaviour, on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest

from faultmaven_runbooks.errors import Conflict, InvalidInput
from faultmaven_runbooks.storage import StaleWrite

from .support import execution, pattern

# -- patterns and incidents -------------------------------------------------------------------

def test_a_pattern_comes_back_exactly_as_saved(store):
    saved = pattern("oom-api")
    store.patterns.add(saved)
    got = store.patterns.get("oom-api")
    assert got.pattern == saved and got.revision == 1
    assert store.patterns.get("no-such") is None
    [candidate] = store.patterns.candidates()
    assert (candidate.id, list(candidate.centroid), candidate.context, candidate.members) == \
        ("oom-api", saved["centroid"], saved["context"], 1)


def test_candidates_follow_saves_from_any_replica_and_never_a_rolled_back_one(store, replica):
    store.patterns.add(pattern("a"))
    assert [c.members for c in store.patterns.candidates()] == [1]  # decoded and cached
    other = replica()
    got = other.patterns.get("a")
    other.patterns.save({**got.pattern, "members": 5, "centroid": [1.0, 0.0]}, got.revision)
    other.patterns.add(pattern("b"))
    seen = {c.id: c for c in store.patterns.candidates()}
    assert set(seen) == {"a", "b"} and (seen["a"].members, tuple(seen["a"].centroid)) == (5, (1.0, 0.0))
    with pytest.raises(RuntimeError), store.transaction() as tx:
        got = tx.patterns.get("a")
        tx.patterns.save({**got.pattern, "members": 99}, got.revision)
        assert {c.id: c.members for c in tx.patterns.candidates()}["a"] == 99  # its own write
        raise RuntimeError("the learn fails after the save")
    assert {c.id: c.members for c in store.patterns.candidates()}["a"] == 5
    got = other.patterns.get("a")  # the same revision number the rolled-back save had
    other.patterns.save({**got.pattern, "members": 6}, got.revision)
    assert {c.id: c.members for c in store.patterns.candidates()}["a"] == 6


def test_a_save_from_a_stale_read_is_refused_and_changes_nothing(store):
    store.patterns.add(pattern("oom-api"))
    first, second = store.patterns.get("oom-api"), store.patterns.get("oom-api")
    store.patterns.save({**first.pattern, "members": 2}, first.revision)
    with pytest.raises(StaleWrite):
        store.patterns.save({**second.pattern, "members": 7}, second.revision)
    assert store.patterns.get("oom-api").pattern["members"] == 2
    with pytest.raises(StaleWrite):
        store.patterns.add(pattern("oom-api"))  # created meanwhile by another writer


def test_a_resent_incident_is_recorded_and_counted_once(store):
    store.patterns.add(pattern("oom-api"))
    added = store.incidents.add("oom-api", {"success": True}, "INC-1")
    assert added is not None and store.incidents.add("oom-api", {"success": False}, "INC-1") is None
    assert store.incidents.add("oom-api", {"success": True}) is not None  # no id: always new
    assert store.incidents.add("oom-api", {"success": True}) is not None
    assert store.incidents.total() == 3
    stored = store.incidents.get("INC-1")
    assert stored.data == {"success": True}
    updated = store.incidents.replace(stored, "oom-api", {"success": False})
    assert store.incidents.get("INC-1").data == {"success": False} and updated.revision == 2
    with pytest.raises(StaleWrite):
        store.incidents.replace(stored, "oom-api", {"success": True})  # read before the update
    assert store.incidents.total() == 3


def test_recent_incident_ids_are_newest_first_and_leave_out_the_asker(store, clock):
    store.patterns.add(pattern("oom-api"))
    for n in range(7):
        clock.advance(minutes=1)
        store.incidents.add("oom-api", {}, f"INC-{n}")
    assert store.incidents.recent_ids("oom-api", 5, exclude="INC-6") == ["INC-5", "INC-4", "INC-3", "INC-2", "INC-1"]
    assert store.incidents.recent_ids("oom-api", 2) == ["INC-6", "INC-5"]


def test_a_transaction_is_all_or_nothing(store):
    store.patterns.add(pattern("oom-api"))
    stale = store.patterns.get("oom-api")
    store.patterns.save(stale.pattern, stale.revision)  # someone else saved meanwhile
    with pytest.raises(StaleWrite):
        with store.transaction() as tx:
            tx.incidents.add("oom-api", {}, "INC-1")
            tx.outcomes.add_resolution("raise limit", uses=1, successes=1)
            tx.patterns.save(stale.pattern, stale.revision)
    assert store.incidents.get("INC-1") is None and store.incidents.total() == 0
    assert store.outcomes.resolutions() == {}


def test_outcome_counters_add_and_take_back(store):
    store.outcomes.add_resolution("restart pod", uses=1, successes=1, seconds_total=60.0, timed=1,
                                  side_effects={"brief outage": 1})
    store.outcomes.add_resolution("restart pod", uses=1, failures=1, side_effects={"brief outage": 1, "lost cache": 1})
    store.outcomes.add_resolution("restart pod", uses=-1, failures=-1, side_effects={"lost cache": -1})  # undo a re-send
    assert store.outcomes.resolutions() == {"restart pod": {
        "uses": 1, "successes": 1, "failures": 0, "seconds_total": 60.0, "timed": 1,
        "side_effects": {"brief outage": 2}}}
    store.outcomes.add_runbook("pod-oomkilled", uses=2, resolved=1, failed=1, seconds_total=90.0, timed=1)
    assert store.outcomes.runbook("pod-oomkilled") == {"uses": 2, "resolved": 1, "failed": 1, "seconds_total": 90.0,
                                                       "timed": 1}
    assert store.outcomes.runbook("unused") is None


def test_usage_counts_add_up_and_times_never_move_back(store, clock):
    store.usage.add_retrievals({"pod-oomkilled": 2, "disk-full": 1})
    store.usage.add_execution("pod-oomkilled", success=False, seconds=4.5)
    store.usage.add_resolution("pod-oomkilled", 120)
    store.usage.add_resolution(None, 600)
    store.usage.add_resolution(None, None)
    later = clock()
    clock.advance(hours=-3)  # a replica whose clock lags
    store.usage.add_retrievals({"pod-oomkilled": 1})
    row = store.usage.get("pod-oomkilled")
    assert row["retrievals"] == 3 and row["last_retrieved"] == later.isoformat(timespec="seconds")
    assert (row["executions"], row["exec_failed"], row["exec_seconds_total"]) == (1, 1, 4.5)
    assert (row["resolutions"], row["resolution_seconds_total"], row["resolutions_timed"]) == (1, 120.0, 1)
    assert set(store.usage.all()) == {"pod-oomkilled", "disk-full"}
    assert store.usage.unassisted() == {"resolutions": 2, "seconds_total": 600.0, "timed": 1}


# -- executions and approvers -----------------------------------------------------------------

def test_executions_list_newest_first_in_pages_with_filters(store):
    for n in range(25):
        created = (dt.datetime(2031, 5, 17, 9, tzinfo=dt.UTC) + dt.timedelta(minutes=n // 2)).isoformat()
        store.executions.add(execution(f"exec-{n:012x}", created=created, status="completed" if n % 3 else "failed",
                                       runbook_id="a" if n % 2 else "b"), cluster="prod" if n < 20 else "staging")
    seen, cursor = [], None
    while True:
        page = store.executions.page(limit=7, cursor=cursor)
        seen += [e.execution_id for e in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [f"exec-{n:012x}" for n in reversed(range(25))]  # same minute: higher id first
    failed = store.executions.page(limit=100, status="failed", runbook_id="b")
    assert [e.execution_id for e in failed.items] == [f"exec-{n:012x}" for n in (24, 18, 12, 6, 0)]
    assert store.executions.count(status="failed", runbook_id="b") == 5
    assert store.executions.count(cluster="staging") == 5 and store.executions.count() == 25
    assert store.executions.get("exec-000000000003").record == execution(
        "exec-000000000003", created="2031-05-17T09:01:00+00:00", status="failed", runbook_id="a")
    with pytest.raises(Conflict):
        store.executions.add(execution("exec-000000000003"))


def test_a_status_change_happens_only_from_the_expected_status(store):
    record = execution("exec-00000000000a")
    store.executions.add(record)
    assert store.executions.claim_approval({**record, "status": "applying", "approver": "alice"})
    assert not store.executions.claim_approval({**record, "status": "rejected", "approver": "mallory"})
    assert store.executions.get(record["execution_id"]).record["approver"] == "alice"
    assert store.executions.transition({**record, "status": "completed", "updated": "2031-05-17T09:31:00+00:00"},
                                       "applying")
    done = store.executions.get(record["execution_id"])
    assert done.status == "completed" and done.updated == dt.datetime(2031, 5, 17, 9, 31, tzinfo=dt.UTC)
    assert not store.executions.claim_approval({**record, "status": "applying"})  # decided stays decided
    assert not store.executions.transition(execution("exec-0000000000ff"), "awaiting_approval")


def test_approvers_are_found_by_token_hash_until_revoked(store, clock):
    alice = store.approvers.add("alice", "sha256:aaa")
    assert alice.created == clock() and store.approvers.by_token_hash("sha256:aaa").name == "alice"
    with pytest.raises(Conflict):
        store.approvers.add("alice", "sha256:other")  # an active approver is never overwritten
    assert store.approvers.revoke("alice") and not store.approvers.revoke("alice")
    assert store.approvers.by_token_hash("sha256:aaa") is None
    assert store.approvers.list() == [] and store.approvers.list(include_revoked=True)[0].revoked == clock()
    store.approvers.add("alice", "sha256:new")
    assert store.approvers.by_token_hash("sha256:new").active and store.approvers.by_token_hash("sha256:aaa") is None


# -- audit, versions, triage ------------------------------------------------------------------

def test_the_audit_log_appends_pages_and_exports(store, clock):
    written = []
    for n in range(12):
        clock.advance(seconds=30)
        written.append(store.audit.append("execute.step", execution_id=f"exec-{n % 2:012x}", step=n,
                                          at=dt.date(2031, 5, 17)))
    assert written[0] == {"time": "2031-05-17T09:30:30+00:00", "event": "execute.step",
                          "execution_id": "exec-000000000000", "step": 0, "at": "2031-05-17"}
    assert [e["step"] for e in store.audit.entries("exec-000000000001")] == [1, 3, 5, 7, 9, 11]
    first = store.audit.page(limit=5)
    second = store.audit.page(limit=5, cursor=first.next_cursor)
    assert [e["step"] for e in first.items + second.items] == list(range(11, 1, -1))
    out = io.StringIO()
    assert store.audit.export_jsonl(out) == 12
    assert [json.loads(line) for line in out.getvalue().splitlines()] == written


def test_nothing_in_the_code_can_change_an_audit_entry(store):
    """The repository has no way to update or delete; the database refuses it from anyone else."""
    from faultmaven_runbooks.storage.audit import AuditRepo

    public = {name for name in vars(AuditRepo) if not name.startswith("_")}
    assert public == {"append", "append_entry", "entries", "page", "export_jsonl"}
    store.audit.append("approval.approved", execution_id="exec-000000000001", approver="alice")
    for statement in ("UPDATE audit_log SET entry = '{}'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"):
            with store.engine.begin() as conn:
                conn.exec_driver_sql(statement)
    assert store.audit.entries("exec-000000000001")[0]["approver"] == "alice"


def test_versions_are_kept_byte_for_byte_and_never_rewritten(store, clock):
    content = "# OOM\n\nkubectl get pods — ünïcode\r\n".encode()
    entry = store.versions.save("pod-oomkilled", 1, content, "alice", "first")
    assert entry["bytes"] == len(content) and entry["replaced_at"] == clock().isoformat(timespec="seconds")
    assert store.versions.save("pod-oomkilled", 1, content, "alice", "first") == entry  # a retried save
    with pytest.raises(Conflict):
        store.versions.save("pod-oomkilled", 1, b"other", "mallory", None)
    clock.advance(days=1)
    store.versions.save("pod-oomkilled", 2, b"v2", "bob", None)
    assert store.versions.read("pod-oomkilled", 1) == content and store.versions.read("pod-oomkilled", 9) is None
    assert [e["version"] for e in store.versions.entries("pod-oomkilled")] == [1, 2]
    assert store.versions.last_version("pod-oomkilled") == 2 and store.versions.last_version("x") == 0
    assert store.versions.counts() == {"pod-oomkilled": 2}
    newest = store.versions.page("pod-oomkilled", limit=1)
    assert newest.items[0]["version"] == 2
    assert store.versions.page("pod-oomkilled", limit=1, cursor=newest.next_cursor).items[0]["version"] == 1


def test_triage_counts_firings_and_starts_one_dry_run(store, clock):
    store.triage.fire("fp-1", alertname="KubePodCrashLooping", labels={"namespace": "prod"})
    clock.advance(minutes=5)
    again = store.triage.fire("fp-1", labels={"namespace": "prod"})
    assert (again.count, again.alertname, again.status) == (2, "KubePodCrashLooping", "firing")
    assert again.last_seen - again.first_seen == dt.timedelta(minutes=5)
    assert store.triage.suggest("fp-1", [{"id": "pod-crashloop", "score": 0.9}])
    assert store.triage.claim_dry_run("fp-1", "exec-000000000001")
    assert not store.triage.claim_dry_run("fp-1", "exec-000000000002")
    store.triage.fire("fp-2", alertname="NodeDiskFull")
    assert store.triage.resolve("fp-1") and not store.triage.resolve("fp-1")
    record = store.triage.get("fp-1")
    assert (record.status, record.resolved_at, record.dry_run_execution_id) == ("resolved", clock(), "exec-000000000001")
    assert [r.fingerprint for r in store.triage.page(status="firing").items] == ["fp-2"]
    assert store.triage.fire("fp-1").status == "firing"  # fires again: a new episode, same record


# -- paging -----------------------------------------------------------------------------------

def test_pages_hold_still_while_rows_are_added(store, clock):
    for n in range(6):
        clock.advance(minutes=1)
        store.patterns.add(pattern(f"p-{n}", last_seen=clock().isoformat()))
    first = store.patterns.page(limit=3)
    clock.advance(minutes=1)
    store.patterns.add(pattern("p-new", last_seen=clock().isoformat()))  # lands before page one, not in page two
    second = store.patterns.page(limit=3, cursor=first.next_cursor)
    assert [p.id for p in first.items + second.items] == ["p-5", "p-4", "p-3", "p-2", "p-1", "p-0"]
    assert second.next_cursor is None and store.patterns.count() == 7


@pytest.mark.parametrize("cursor", ["garbage", "eyJhIjoxfQ", "WyIyMDMxLTA1LTE3IiwgMV0"])
def test_a_forged_cursor_or_limit_is_refused_with_what_to_do(store, cursor):
    with pytest.raises(InvalidInput, match="without a cursor"):
        store.executions.page(cursor=cursor)
    for limit in (0, 501, True):
        with pytest.raises(InvalidInput, match="limit"):
            store.audit.page(limit=limit)
