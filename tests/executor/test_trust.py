"""Who can approve, once, for which cluster: approver credentials, the compare-and-set, the
cluster binding (two fake API servers with their own CAs), crash recovery and restore."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import threading

import pytest
import yaml

from faultmaven_runbooks.errors import Conflict, Forbidden, InvalidInput, NotFound
from faultmaven_runbooks.executor.approvers import ApproverStore
from faultmaven_runbooks.executor.cluster import connect
from faultmaven_runbooks.executor.service import ExecutionService

from .conftest import CTX, NS, POD
from .fake_kube import FakeKube, seed

FIX = {"dry_run": False, "steps": [10]}  # delete the crash-looping pod


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_approver_tokens_are_shown_once_and_stored_as_hashes(tmp_path, clock):
    store = ApproverStore(tmp_path / "approvers.json", clock)
    token = store.add("alice")
    assert token.startswith("fmra_") and len(token) > 40
    saved = (tmp_path / "approvers.json").read_text()
    assert token not in saved and json.loads(saved)["approvers"]["alice"]["created"] == "2031-05-17T09:30:00+00:00"
    assert oct((tmp_path / "approvers.json").stat().st_mode & 0o777) == "0o600"
    assert store.identify(token) == "alice" and store.identify(token + "x") is None and store.identify(None) is None
    with pytest.raises(Conflict):
        store.add("ALICE")
    with pytest.raises(InvalidInput):
        store.add("bob; rm -rf /")
    store.remove("alice")
    assert store.identify(token) is None and store.count() == 0
    with pytest.raises(NotFound):
        store.remove("alice")


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


def test_a_claim_left_by_a_dead_process_blocks_nothing(executor, kube):
    result = executor.execute("exec-sampler", CTX, FIX)
    record = executor.store.get(result.execution_id)
    claim = executor.store.root / f"{result.execution_id}.v{record.version}.claim"
    owner = {"host": __import__("socket").gethostname(), "boot": None, "pid": _dead_pid(), "start": "1"}
    claim.write_text(json.dumps(owner))  # a process died between its claim and its record write
    assert executor.approve(result.execution_id, "alice").status == "completed"
    assert len(kube.changes()) == 1


def test_an_apply_cut_short_is_interrupted_never_resent(exec_settings, runbook_service, executor, kube):
    from kubernetes import client as k8s

    result = executor.execute("exec-sampler", CTX, FIX)

    def crashed(rec):  # what a process killed while sending leaves behind
        rec.status, rec.outcome = "applying", "applying"
        rec.owner = {"host": __import__("socket").gethostname(), "boot": None, "pid": _dead_pid(), "start": "1"}
        rec.approval.status, rec.approval.approver = "approved", "alice"
        rec.steps[0].result = "applying"

    executor.store.transition(result.execution_id, "awaiting_approval", crashed)
    restarted = ExecutionService(exec_settings, runbook_service, kube_configuration=k8s.Configuration(host=kube.url))
    record = restarted.get(result.execution_id)
    assert record.status == "interrupted" and record.steps[0].result == "interrupted"
    assert "may or may not have been applied" in record.message
    assert [e["event"] for e in restarted.audit.entries(result.execution_id)][-1] == "execute.interrupted"
    with pytest.raises(Conflict):
        restarted.approve(result.execution_id, "bob")
    assert kube.changes() == []


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
    on_a = ExecutionService(exec_settings.model_copy(update={"kubeconfig": config_a}), runbook_service)
    result = on_a.execute("exec-sampler", CTX, FIX)
    assert result.outcome == "needs_approval" and result.cluster.server == a.url
    on_b = ExecutionService(exec_settings.model_copy(update={"kubeconfig": config_b}), runbook_service)
    with pytest.raises(Forbidden, match="was planned on"):
        on_b.approve(result.execution_id, "alice")
    assert b.requests == [] and a.changes() == []
    refused = [e for e in on_b.audit.entries(result.execution_id) if e["event"] == "approval.refused"]
    assert refused and refused[0]["cluster"] == a.url
    assert on_a.approve(result.execution_id, "alice").status == "completed"  # the right connection applies it
    assert len(a.changes()) == 1 and b.changes() == []
    for svc in (on_a, on_b):
        svc.close()


def test_backup_approve_restore_approve_sends_one_change(executor, runbook_service, kube):
    audit = executor.audit.path
    result = executor.execute("exec-sampler", CTX, FIX)
    backup = runbook_service.backups.backup()["name"]
    assert executor.approve(result.execution_id, "alice").status == "completed"
    before = audit.read_text().splitlines()
    restored = runbook_service.backups.restore(backup, reindex=False)
    after = audit.read_text().splitlines()
    assert after == before and restored["restored"] == backup  # not one line rewound
    assert executor.get(result.execution_id).status == "completed"  # the decision was not rewound
    with pytest.raises(Conflict):
        executor.approve(result.execution_id, "bob")
    assert len(kube.changes()) == 1


def test_restore_never_brings_back_a_revoked_approver(executor, runbook_service):
    token = executor.approvers.add("mallory")
    backup = runbook_service.backups.backup()["name"]
    executor.approvers.remove("mallory")
    runbook_service.backups.restore(backup, reindex=False)
    assert executor.approvers.identify(token) is None


def test_a_missing_execution_record_comes_back_from_a_backup(executor, runbook_service, kube):
    result = executor.execute("exec-sampler", CTX, FIX)
    backup = runbook_service.backups.backup()["name"]
    (executor.store.root / f"{result.execution_id}.json").unlink()
    runbook_service.backups.restore(backup, reindex=False)
    assert executor.get(result.execution_id).status == "awaiting_approval"
    assert kube.get("pods", POD, NS) is not None
