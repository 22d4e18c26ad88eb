"""Who can approve, once, for which cluster: approver credentials, the compare-and-set in the
state store, the cluster binding (two fake API servers with their own CAs), crash recovery and
restore."""

from __future__ import annotations

import base64
import hashlib
import io
import signal
import subprocess
import sys
import tarfile
import threading

import pytest
import yaml
from sqlalchemy import delete

from faultmaven_runbooks.errors import Conflict, Forbidden, InvalidInput, NotFound
from faultmaven_runbooks.executor.approvers import Approvers
from faultmaven_runbooks.executor.cluster import connect
from faultmaven_runbooks.service import RunbookService
from faultmaven_runbooks.storage.schema import Execution

from .conftest import CTX, NS, POD
from .fake_kube import FakeKube, seed

pytestmark = pytest.mark.both_stores  # on SQLite, and again on PostgreSQL (tests/conftest.py)

FIX = {"dry_run": False, "steps": [10]}  # delete the crash-looping pod


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_approver_tokens_are_shown_once_and_stored_as_hashes(runbook_service):
    store = runbook_service.store
    approvers = Approvers(store)
    token = approvers.add("alice")
    assert token.startswith("fmra_") and len(token) > 40
    [saved] = store.approvers.list()
    assert saved.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in repr(saved)
    assert approvers.names() == [{"name": "alice", "created": "2031-05-17T09:30:00+00:00"}]  # the injected clock
    assert approvers.identify(token) == "alice" and approvers.identify(token + "x") is None
    assert approvers.identify(None) is None
    with pytest.raises(Conflict):
        approvers.add("ALICE")
    with pytest.raises(InvalidInput):
        approvers.add("bob; rm -rf /")
    approvers.remove("alice")
    assert approvers.identify(token) is None and approvers.count() == 0
    with pytest.raises(NotFound):
        approvers.remove("alice")
    assert store.approvers.list(include_revoked=True)[0].revoked is not None  # revoked, dated, kept


def test_two_approvers_at_once_apply_the_change_once(executor, kube):
    result = executor.execute("exec-sampler", CTX, FIX)
    kube.apply_delay = 0.3  # keep the first apply in flight while the second approver arrives
    outcomes = []

    def approve(who):
        try:
            outcomes.append(executor.approve(result.execution_id, who).status)
        except Conflict as exc:
            outcomes.append(f"conflict: {exc}")

    threads = [threading.Thread(target=approve, args=(who,)) for who in ("alice", "bob")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(o.split(":")[0] for o in outcomes) == ["completed", "conflict"]
    assert len(kube.changes()) == 1


DECIDER = """
import sys, time
from faultmaven_runbooks.settings import Settings
from faultmaven_runbooks.storage import open_store

store = open_store(Settings(_env_file=None, data_dir=sys.argv[1], database_url=sys.argv[2] or None))
with store.transaction() as tx:
    record = dict(tx.executions.get(sys.argv[3]).record, status="applying")
    assert tx.executions.claim_approval(record)  # the conditional UPDATE went through...
    print("decided", flush=True)
    time.sleep(600)  # ...and the process dies before it commits
"""


def test_a_decider_killed_mid_decision_blocks_nothing(exec_settings, executor, kube):
    """kill -9 between the conditional UPDATE and its COMMIT: the database rolls the decision
    back (SQLite when the dead process's lock goes, PostgreSQL when its connection drops), so the
    approval is still open, once."""
    result = executor.execute("exec-sampler", CTX, FIX)
    decider = subprocess.Popen([sys.executable, "-c", DECIDER, str(exec_settings.data_dir),
                                exec_settings.database_url or "", result.execution_id],
                               stdout=subprocess.PIPE, text=True)
    try:
        assert decider.stdout.readline().strip() == "decided"
    finally:
        decider.send_signal(signal.SIGKILL)
        decider.wait(10)
    assert executor.get(result.execution_id).status == "awaiting_approval"
    assert executor.approve(result.execution_id, "alice").status == "completed"
    with pytest.raises(Conflict):
        executor.approve(result.execution_id, "bob")
    assert len(kube.changes()) == 1


def test_an_apply_cut_short_is_interrupted_never_resent(exec_settings, clock, executor, kube):
    from kubernetes import client as k8s

    result = executor.execute("exec-sampler", CTX, FIX)

    def crashed(rec):  # what a process killed while sending leaves behind
        rec.status, rec.outcome = "applying", "applying"
        rec.owner = {"host": __import__("socket").gethostname(), "boot": None, "pid": _dead_pid(), "start": "1"}
        rec.approval.status, rec.approval.approver = "approved", "alice"
        rec.steps[0].result = "applying"

    executor.store.transition(result.execution_id, "awaiting_approval", crashed)
    service = RunbookService(exec_settings, clock=clock)  # the restarted process
    restarted = service.make_executions(kube_configuration=k8s.Configuration(host=kube.url))
    assert [e.status for e in restarted.list_executions().executions] == ["interrupted"]  # before anyone reads it
    record = restarted.get(result.execution_id)
    assert record.status == "interrupted" and record.steps[0].result == "interrupted"
    assert "may or may not have been applied" in record.message
    assert [e["event"] for e in restarted.audit.entries(result.execution_id)][-1] == "execute.interrupted"
    with pytest.raises(Conflict):
        restarted.approve(result.execution_id, "bob")
    assert kube.changes() == []
    service.close()


@pytest.fixture
def two_clusters(tmp_path):
    a, b = seed(FakeKube(tls=True, name="cluster-a")).start(), seed(FakeKube(tls=True, name="cluster-b")).start()
    yield a, a.kubeconfig(tmp_path / "a.yaml"), b, b.kubeconfig(tmp_path / "b.yaml")
    a.stop()
    b.stop()


def test_the_cluster_identity_covers_url_ca_and_context(two_clusters, exec_settings, tmp_path):
    a, config_a, b, _ = two_clusters
    ident_a = connect(exec_settings.model_copy(update={"kubeconfig": config_a}))[1]
    assert ident_a.server == a.url and ident_a.context == "cluster-a-context" and len(ident_a.ca_sha256) == 64
    # the same URL with B's CA is another cluster (a man in the middle, or a rebuilt control plane)
    data = yaml.safe_load(config_a.read_text())
    data["clusters"][0]["cluster"]["certificate-authority-data"] = base64.b64encode(b.ca_pem).decode()
    swapped = tmp_path / "swapped.yaml"
    swapped.write_text(yaml.safe_dump(data))
    ident_swapped = connect(exec_settings.model_copy(update={"kubeconfig": swapped}))[1]
    assert ident_swapped.server == ident_a.server and ident_swapped.ca_sha256 != ident_a.ca_sha256


def test_a_plan_for_cluster_a_never_applies_to_cluster_b(two_clusters, exec_settings, runbook_service):
    a, config_a, b, config_b = two_clusters
    on_a = runbook_service.make_executions(exec_settings.model_copy(update={"kubeconfig": config_a}))
    result = on_a.execute("exec-sampler", CTX, FIX)
    assert result.outcome == "needs_approval" and result.cluster.server == a.url
    on_b = runbook_service.make_executions(exec_settings.model_copy(update={"kubeconfig": config_b}))
    with pytest.raises(Forbidden, match="was planned on"):
        on_b.approve(result.execution_id, "alice")
    assert b.requests == [] and a.changes() == []
    refused = [e for e in on_b.audit.entries(result.execution_id) if e["event"] == "approval.refused"]
    assert refused and refused[0]["cluster"] == a.url
    assert on_a.approve(result.execution_id, "alice").status == "completed"  # the right connection applies it
    assert len(a.changes()) == 1 and b.changes() == []
    for svc in (on_a, on_b):
        svc.close()


def _audit_lines(store) -> list[str]:
    out = io.StringIO()
    store.audit.export_jsonl(out)
    return out.getvalue().splitlines()


def test_backup_approve_restore_approve_sends_one_change(executor, runbook_service, kube):
    store = runbook_service.store
    result = executor.execute("exec-sampler", CTX, FIX)
    backup = runbook_service.backups.backup()["name"]  # the execution awaits approval in it
    assert executor.approve(result.execution_id, "alice").status == "completed"
    before, decided = _audit_lines(store), store.executions.get(result.execution_id).record
    restored = runbook_service.backups.restore(backup, reindex=False)
    assert _audit_lines(store) == before and restored["restored"] == backup  # not one line rewound or added
    assert store.executions.get(result.execution_id).record == decided  # the decision was not rewound
    with pytest.raises(Conflict):
        executor.approve(result.execution_id, "bob")
    assert len(kube.changes()) == 1


def test_restore_never_brings_back_a_revoked_approver(executor, runbook_service):
    token = executor.approvers.add("mallory")
    backup = runbook_service.backups.backup()["name"]
    executor.approvers.remove("mallory")
    runbook_service.backups.restore(backup, reindex=False)
    assert executor.approvers.identify(token) is None
    archive = runbook_service.settings.data_dir / "backups" / backup
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        state = tar.extractfile("state/state.db").read() if "state/state.db" in names else b""
    assert not any("approvers" in name for name in names)
    assert hashlib.sha256(token.encode()).hexdigest().encode() not in state  # no credential in the copy


def test_a_lost_execution_record_comes_back_from_a_backup(executor, runbook_service, kube):
    store = runbook_service.store
    if store.dialect != "sqlite":
        pytest.skip("archives hold the state only on SQLite; PostgreSQL is restored with pg_restore")
    result = executor.execute("exec-sampler", CTX, FIX)
    backup = runbook_service.backups.backup()["name"]
    with store.engine.begin() as conn:  # a row lost (say, a hand-edited database)
        conn.execute(delete(Execution).where(Execution.id == result.execution_id))
    with pytest.raises(NotFound):
        executor.get(result.execution_id)
    runbook_service.backups.restore(backup, reindex=False)
    assert executor.get(result.execution_id).status == "awaiting_approval"
    assert kube.get("pods", POD, NS) is not None
