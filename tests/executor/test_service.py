"""ExecutionService through the real kubernetes client against the fake API server."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from faultmaven_runbooks.errors import Conflict, Forbidden, InvalidInput, NotFound
from faultmaven_runbooks.executor.policy import Policy
from faultmaven_runbooks.executor.service import ExecutionService

from .conftest import CTX, NS, POD, SHIPPED


@pytest.mark.skipif(not (SHIPPED / "static/compute/pod-crashloopbackoff.md").exists(), reason="shipped runbook missing")
def test_shipped_crashloop_runbook_end_to_end(executor, kube):
    progress = []
    result = executor.execute("pod-crashloopbackoff", CTX, progress=lambda d, t, m: progress.append((d, t, m)))
    assert result.status == "dry_run_completed"
    by_cmd = {s.command: s for s in result.steps}
    describe = by_cmd[f"kubectl -n {NS} describe pod {POD}"]
    assert describe.result == "success" and "CrashLoopBackOff" in describe.output and "OOMKilled" in describe.output
    logs = by_cmd[f"kubectl -n {NS} logs {POD} -c app --previous --tail=200"]
    assert "out of memory" in logs.output and "hunter2" not in logs.output  # redacted
    undo = by_cmd[f"kubectl -n {NS} rollout undo deployment/web"]
    assert undo.classification == "change" and undo.result == "dry_run"
    assert "-        image: web:2.0" in undo.diff and "+        image: web:1.0" in undo.diff
    assert any("OOMKilled" in r for r in result.recommendations)
    # every change reached the server only as a dry run; nothing was changed
    assert [r for r in kube.requests if r["method"] in ("PATCH", "DELETE")] and kube.changes() == []
    assert all(r["dry_run"] for r in kube.requests if r["method"] in ("PATCH", "DELETE"))
    assert kube.get("pods", POD, NS) is not None
    assert progress[-1][0] == progress[-1][1] == len(result.steps)
    assert len(progress) == len(result.steps) + 1


def test_reads_run_changes_wait_for_approval_then_apply(executor, kube):
    result = executor.execute("exec-sampler", CTX, {"dry_run": False}, requester="claude")
    assert result.status == "awaiting_approval"
    assert result.approval.changes == [9, 10] and result.approval.requested_by == "claude"
    assert kube.changes() == []
    with pytest.raises(Forbidden):
        executor.approve(result.execution_id, "Claude", "approve")  # the requester cannot approve
    done = executor.approve(result.execution_id, "alice", "approve", "memory fix")
    assert done.status == "completed" and done.approval.approver == "alice"
    limits = kube.get("deployments", "web", NS)["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
    assert limits == {"memory": "1Gi"}
    assert kube.get("pods", POD, NS) is None
    assert kube.requests[-1]["method"] == "DELETE" and not kube.requests[-1]["dry_run"]
    with pytest.raises(Conflict):
        executor.approve(result.execution_id, "bob", "approve")  # nothing left to approve


def test_reject_applies_nothing(executor, kube):
    result = executor.execute("exec-sampler", CTX, {"dry_run": False, "steps": [9]})
    rejected = executor.approve(result.execution_id, "alice", "reject", "not now")
    assert rejected.status == "rejected" and rejected.steps[0].result == "rejected"
    assert kube.changes() == []


def test_approval_expires(exec_settings, runbook_service, kube):
    from kubernetes import client as k8s

    svc = ExecutionService(exec_settings, runbook_service, policy=Policy(approval_ttl_seconds=30),
                           kube_configuration=k8s.Configuration(host=kube.url))
    result = svc.execute("exec-sampler", CTX, {"dry_run": False, "steps": [10]})
    record = svc.store.get(result.execution_id)
    record.approval.expires_at = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)).isoformat()
    svc.store.save(record)
    with pytest.raises(Conflict, match="expired"):
        svc.approve(result.execution_id, "alice")
    assert svc.get(result.execution_id).status == "expired"
    assert kube.changes() == []


def test_approval_is_bound_to_the_plan(executor, kube, exec_library):
    result = executor.execute("exec-sampler", CTX, {"dry_run": False, "steps": [9]})
    path = exec_library / "static" / "exec-sampler.md"
    path.write_text(path.read_text().replace("--limits=memory={memory_limit}", "--limits=memory=64Gi"))
    with pytest.raises(Conflict, match="plan changed"):
        executor.approve(result.execution_id, "alice")
    assert kube.changes() == []


def test_failed_step_stops_later_changes(executor, kube):
    kube.forbidden.append(("GET", f"/pods/{POD}"))  # RBAC denies reading the pod
    result = executor.execute("exec-sampler", CTX, {"dry_run": False})
    by_step = {s.step: s for s in result.steps}
    assert by_step[2].result == "failed" and "forbidden by the cluster's RBAC (403)" in by_step[2].reason
    assert by_step[9].result == "skipped" and "earlier step failed" in by_step[9].reason
    assert by_step[10].result == "skipped"
    assert result.status == "failed" and result.approval is None
    assert not any(r["method"] in ("PATCH", "DELETE") for r in kube.requests)


def test_missing_target_is_a_clear_404(executor, kube):
    result = executor.execute("exec-sampler", {**CTX, "pod_name": "gone-1"}, {"steps": [2, 10]})
    assert result.steps[0].result == "failed" and "not found (404)" in result.steps[0].reason
    assert result.steps[1].result == "skipped"


def test_missing_context_value_skips_step_without_calling_the_api(executor, kube):
    result = executor.execute("exec-sampler", {"namespace": NS}, {"steps": [2]})
    assert result.steps[0].result == "skipped" and "pod_name" in result.steps[0].reason
    assert kube.requests == []


def test_manual_mode_plans_without_calling_the_api(executor, kube):
    result = executor.execute("exec-sampler", CTX, {"mode": "manual", "dry_run": False})
    assert result.status == "planned" and {s.result for s in result.steps} == {"planned", "manual"}
    assert all(s.operation for s in result.steps if s.classification in ("read", "change"))
    assert kube.requests == []


def test_fully_automated_applies_only_low_risk_changes(make_executor, kube):
    svc = make_executor(Policy(mode="fully-automated", low_risk=["delete pods"]))
    result = svc.execute("exec-sampler", CTX, {"dry_run": False, "auto_execute": True, "steps": [9, 10]})
    by_step = {s.step: s for s in result.steps}
    assert by_step[10].result == "success" and by_step[10].risk == "low"
    assert by_step[9].result == "pending_approval" and by_step[9].risk == "high"
    assert result.status == "awaiting_approval" and kube.get("pods", POD, NS) is None


def test_caller_cannot_loosen_the_policy_mode(executor, kube):
    result = executor.execute("exec-sampler", CTX, {"dry_run": False, "auto_execute": True, "steps": [10]})
    assert result.mode == "semi-automated" and result.steps[0].result == "pending_approval"
    assert kube.changes() == []


def test_secrets_never_requested_and_configmap_values_hidden(executor, kube):
    result = executor.execute("exec-sampler", CTX, {"steps": [5]})
    assert "s3cret" not in result.steps[0].output and "DATABASE_URL" in result.steps[0].output
    assert not any("secrets" in r["path"] for r in kube.requests)


def test_records_survive_restart_and_filter(exec_settings, runbook_service, kube, executor):
    from kubernetes import client as k8s

    a = executor.execute("exec-sampler", CTX, {"steps": [1]})
    b = executor.execute("exec-sampler", CTX, {"dry_run": False, "steps": [10]})
    fresh = ExecutionService(exec_settings, runbook_service, kube_configuration=k8s.Configuration(host=kube.url))
    listing = fresh.list_executions(limit=10)
    assert {e.execution_id for e in listing.executions} == {a.execution_id, b.execution_id}
    waiting = fresh.list_executions(status="awaiting_approval")
    assert [e.execution_id for e in waiting.executions] == [b.execution_id]
    assert fresh.approve(b.execution_id, "alice").status == "completed"  # approval works after a restart
    assert fresh.list_executions(runbook_id="nope").total == 0
    with pytest.raises(InvalidInput):
        fresh.get("../../etc/passwd")
    with pytest.raises(NotFound):
        fresh.get("exec-000000000000")


def test_audit_log_records_plan_steps_and_decisions(executor, exec_settings):
    result = executor.execute("exec-sampler", CTX, {"dry_run": False, "steps": [7, 10]}, requester="claude")
    with pytest.raises(Forbidden):
        executor.approve(result.execution_id, "claude")
    executor.approve(result.execution_id, "alice")
    lines = (exec_settings.data_dir / "audit" / "executions.jsonl").read_text().splitlines()
    events = [json.loads(x) for x in lines]
    mine = [e for e in events if e.get("execution_id") == result.execution_id]
    kinds = [e["event"] for e in mine]
    assert kinds == ["execute.plan", "execute.step", "execute.step", "execute.finish", "approval.refused",
                     "approval.approved", "execute.apply", "execute.finish"]
    assert mine[0]["plan_hash"] == result.plan_hash and mine[5]["approver"] == "alice"
    assert mine[1]["result"] == "manual" and "exec" in mine[1]["reason"]


def test_operations_through_the_client(make_executor, kube, exec_library):
    (exec_library / "static" / "ops.md").write_text(
        "---\nid: ops\n---\n# Ops\n\n## Steps\n```bash\n"
        "kubectl -n {namespace} scale deployment/{deployment} --replicas={replicas}\n"
        "kubectl cordon {node_name}\n"
        "kubectl -n {namespace} label deployment {deployment} team=sre\n"
        "kubectl -n {namespace} patch hpa {hpa_name} -p '{\"spec\":{\"maxReplicas\":{replicas}}}'\n"
        "kubectl -n {namespace} rollout restart deployment/{deployment}\n"
        "kubectl -n {namespace} rollout undo deployment/{deployment} --to-revision=1\n"
        "kubectl -n {namespace} rollout status deployment/{deployment}\n"
        "kubectl -n {namespace} get hpa {hpa_name}\n"
        "kubectl -n {namespace} rollout history deployment/{deployment}\n"
        "```\n")
    svc = make_executor()
    result = svc.execute("ops", {**CTX, "replicas": "6"}, {"dry_run": False})
    assert [s.result for s in result.steps] == ["pending_approval"] * 6 + ["success"] * 3
    assert "- replicas: 2" in result.steps[0].diff and "+ replicas: 6" in result.steps[0].diff
    assert "1 of 2 updated replicas are available" in result.steps[6].output
    assert "web" in result.steps[7].output and any("maxReplicas" in r for r in result.recommendations)
    assert "1" in result.steps[8].output and "2" in result.steps[8].output
    strategic = [r for r in kube.requests if r["method"] == "PATCH" and "hpa" not in r["path"]
                 and r["content_type"] == "application/strategic-merge-patch+json"]
    assert strategic and all(r["dry_run"] for r in strategic)
    done = svc.approve(result.execution_id, "alice")
    assert done.status == "completed", [s.reason for s in done.steps]
    dep = kube.get("deployments", "web", NS)
    assert dep["spec"]["replicas"] == 6 and dep["metadata"]["labels"]["team"] == "sre"
    assert dep["spec"]["template"]["spec"]["containers"][0]["image"] == "web:1.0"  # undo to revision 1
    assert "pod-template-hash" not in dep["spec"]["template"]["metadata"]["labels"]
    assert kube.get("nodes", "node-1")["spec"]["unschedulable"] is True
    assert kube.get("horizontalpodautoscalers", "web", NS)["spec"]["maxReplicas"] == 6


def test_unreachable_cluster_fails_steps_with_reason(make_executor, kube):
    svc = make_executor(host="http://127.0.0.1:9")  # nothing listens on the discard port
    result = svc.execute("exec-sampler", CTX, {"steps": [1]})
    assert result.steps[0].result == "failed" and "cannot reach the Kubernetes API" in result.steps[0].reason


def test_bad_input_is_a_clear_error(executor):
    with pytest.raises(NotFound):
        executor.execute("no-such-runbook", CTX)
    with pytest.raises(InvalidInput, match="no step"):
        executor.execute("exec-sampler", CTX, {"steps": [99]})
    with pytest.raises(InvalidInput):
        executor.list_executions(limit=0)
