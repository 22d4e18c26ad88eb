"""ExecutionService through the real kubernetes client against the fake API server."""

from __future__ import annotations

import io
import json

import pytest

from faultmaven_runbooks.errors import Conflict, Forbidden, InvalidInput, NotFound
from faultmaven_runbooks.executor.policy import Policy
from faultmaven_runbooks.service import RunbookService

from .conftest import CTX, NS, POD

CHANGES = ("PATCH", "DELETE", "POST", "PUT")


def test_shipped_crashloop_default_plan_reads_and_finds(executor, kube):
    progress = []
    result = executor.execute("pod-crashloopbackoff", {"namespace": NS, "pod_name": POD},
                              progress=lambda d, t, m: progress.append((d, t, m)))
    assert result.outcome == "ok" and result.status == "completed"
    assert {s.classification for s in result.steps} == {"read"} and {s.role for s in result.steps} <= {"diagnose", "verify"}
    assert not any(r["method"] in CHANGES for r in kube.requests)  # not even a dry run: no change was planned
    # the workload and container came from the cluster: pod -> ReplicaSet -> Deployment
    assert result.context["deployment"] == "web" and result.context["container"] == "app"
    assert "ownerReferences" in result.derived["deployment"]
    by_cmd = {s.command: s for s in result.steps}
    assert by_cmd[f"kubectl -n {NS} rollout history deployment/web"].result == "success"
    logs = by_cmd[f"kubectl -n {NS} logs {POD} -c app --previous --tail=200"]
    assert "out of memory" in logs.output and "hunter2" not in logs.output  # redacted
    texts = [f.text for f in result.findings]
    assert any("OOMKilled (exit 137, SIGKILL)" in t and "restarted 7 times" in t for t in texts)
    assert any("BackOff x12" in t for t in texts)
    assert any("revision 2 (current) changed app web:1.0 -> web:2.0" in t for t in texts)
    assert any("'out of memory: killed'" in t for t in texts)
    # the memory finding points at the option that raises the limit, citing both
    oom = next(f for f in result.findings if f.kind == "oomkilled")
    memory = next(o for o in result.options if "memory" in o.label)
    assert any(r.startswith(f"option {memory.id} (") and f"{oom.id}: pod {POD}" in r for r in result.recommendations)
    undo = next(o for o in result.options if "new revision" in o.label)
    change = next(f for f in result.findings if f.kind == "rollout_change")
    assert any(r.startswith(f"option {undo.id} (") and f"{change.id}: " in r for r in result.recommendations)
    assert not any("--previous logs" in r for r in result.recommendations)  # never asks for what it read
    assert [o.label.split(",")[0] for o in result.options] == [
        "If the crash started with a new revision", "If the crash is memory related", "If a dependency was briefly down and is now back"]
    assert result.rollbacks and set(result.rollbacks[0].rollback_of) >= {o.steps[0] for o in result.options[:2]}
    assert progress[-1][0] == progress[-1][1] == len(result.steps)


def test_named_option_is_dry_run_then_waits_for_a_person(executor, kube):
    dry = executor.execute("exec-sampler", CTX, {"option": "A"})
    assert dry.outcome == "ok" and {s.result for s in dry.steps} == {"dry_run"} and kube.changes() == []
    assert "dry_run=false" in dry.message
    result = executor.execute("exec-sampler", CTX, {"option": "A", "dry_run": False}, requester="claude")
    assert result.outcome == "needs_approval" and result.approval.changes == [9, 10]
    assert result.approval.requested_by == "claude" and "approvers add" in result.approval.how
    with pytest.raises(Forbidden):
        executor.approve(result.execution_id, "Claude")  # the requester's identity cannot approve
    done = executor.approve(result.execution_id, "alice", reason="memory fix")
    assert done.status == "completed" and done.approval.approver == "alice" and done.approval.via == "cli"
    limits = kube.get("deployments", "web", NS)["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
    assert limits == {"memory": "1Gi"} and kube.get("pods", POD, NS) is None
    assert len(kube.changes()) == 2  # each approved change reached the API exactly once
    with pytest.raises(Conflict, match="never re-opened"):
        executor.approve(result.execution_id, "bob")
    assert len(kube.changes()) == 2


def test_reject_applies_nothing(executor, kube):
    result = executor.execute("exec-sampler", CTX, {"dry_run": False, "steps": [9]})
    rejected = executor.approve(result.execution_id, "alice", "reject", "not now")
    assert rejected.status == "rejected" and rejected.steps[0].result == "rejected"
    assert kube.changes() == []


def test_an_approved_change_cut_short_without_an_api_error_is_reported_not_crashed(executor, kube, monkeypatch):
    result = executor.execute("exec-sampler", CTX, {"dry_run": False, "steps": [9]})
    route = kube.route

    def proxy_page(method, path, query, body, content_type):  # a proxy answering the real PATCH with a page
        if method == "PATCH" and query.get("dryRun") != "All":
            return 200, "<html>502 upstream</html>"
        return route(method, path, query, body, content_type)

    monkeypatch.setattr(kube, "route", proxy_page)
    done = executor.approve(result.execution_id, "alice")
    assert done.status == "failed" and done.steps[0].result == "interrupted"
    assert done.message.startswith("step 9 interrupted: the server stopped while this change was being sent")


def test_approval_expires_on_the_injected_clock(executor, kube, clock):
    result = executor.execute("exec-sampler", CTX, {"dry_run": False, "steps": [10]})
    clock.advance(seconds=executor.policy.approval_ttl_seconds + 1)
    with pytest.raises(Conflict, match="expired"):
        executor.approve(result.execution_id, "alice")
    assert executor.get(result.execution_id).status == "expired"
    assert kube.changes() == []


def test_approval_is_bound_to_the_plan(executor, kube, exec_library):
    result = executor.execute("exec-sampler", CTX, {"dry_run": False, "steps": [9]})
    path = exec_library / "static" / "exec-sampler.md"
    path.write_text(path.read_text().replace("--limits=memory={memory_limit}", "--limits=memory=64Gi"))
    with pytest.raises(Conflict, match="plan changed"):
        executor.approve(result.execution_id, "alice")
    assert kube.changes() == []


def test_failed_pre_check_stops_what_depends_on_it(executor, kube):
    kube.forbidden.append(("GET", f"/pods/{POD}"))  # RBAC denies reading the pod
    result = executor.execute("exec-sampler", CTX, {"dry_run": False, "steps": [2, 3, 9, 10]})
    by_step = {s.step: s for s in result.steps}
    assert by_step[2].result == "failed" and "forbidden by the cluster's RBAC (403)" in by_step[2].reason
    assert by_step[3].result == "skipped" and by_step[3].reason == "step 2 on the same pod failed"
    assert by_step[9].result == "skipped" and "step 2 failed" in by_step[9].reason
    assert result.outcome == "failed" and result.approval is None
    assert result.message == "step(s) [2] failed (see their reason); 3 step(s) that depend on them did not run"
    assert not any(r["method"] in CHANGES for r in kube.requests)


def test_missing_value_is_named_and_never_invented(executor, kube):
    result = executor.execute("exec-sampler", {"namespace": NS}, {"steps": [9]})
    step = result.steps[0]
    assert step.result == "skipped" and step.reason == "needs container, deployment, memory_limit"
    assert step.operation is None and "example" not in step.command and "{deployment}" in step.command
    assert "pass them in context" in result.message and kube.changes() == []


def test_context_is_derived_from_a_workload_to_its_pods(executor, kube):
    result = executor.execute("exec-sampler", {"namespace": NS, "deployment": "web"}, {"steps": [2]})
    assert result.context["pod_name"] == POD  # the not-ready pod, not the healthy one
    assert "a pod of deployment web" in result.derived["pod_name"]
    assert result.steps[0].result == "success"


def test_manual_mode_plans_without_calling_the_api(executor, kube):
    result = executor.execute("exec-sampler", CTX, {"mode": "manual", "dry_run": False})
    assert result.status == "planned" and {s.result for s in result.steps} == {"planned", "manual"}
    assert kube.requests == []


def test_plan_preview_runs_nothing(executor, kube):
    preview = executor.plan("exec-sampler", {"namespace": NS, "pod_name": POD}, {"option": "A"})
    assert [s.step for s in preview.steps] == [9, 10] and preview.approvals_needed == [10]
    assert "execute reads container, deployment from the cluster" in preview.steps[0].reason
    assert [s.risk for s in preview.steps] == ["high", "low"] and preview.cluster.server == kube.url
    assert kube.requests == []


@pytest.mark.both_stores
def test_fully_automated_applies_only_low_risk_changes(make_executor, kube):
    svc = make_executor(Policy(mode="fully-automated", low_risk=["delete pods"]))
    result = svc.execute("exec-sampler", CTX, {"dry_run": False, "auto_execute": True, "steps": [9, 10]})
    by_step = {s.step: s for s in result.steps}
    assert by_step[10].result == "success" and by_step[10].risk == "low"
    assert by_step[9].result == "pending_approval" and by_step[9].risk == "high"
    assert result.status == "awaiting_approval" and kube.get("pods", POD, NS) is None
    events = [e["event"] for e in svc.audit.entries(result.execution_id)]
    assert events.index("execute.applying") < events.index("execute.apply")  # audited before it was sent
    assert svc.approve(result.execution_id, "alice").status == "completed"


def test_caller_cannot_loosen_the_policy_mode(executor, kube):
    result = executor.execute("exec-sampler", CTX, {"dry_run": False, "auto_execute": True, "steps": [10]})
    assert result.mode == "semi-automated" and result.steps[0].result == "pending_approval"
    assert kube.changes() == []


def test_usage_is_read_against_limits_when_metrics_exist(executor, kube):
    result = executor.execute("exec-sampler", CTX, {"steps": [6]})
    usage = [f.text for f in result.findings if f.kind == "usage_near_limit"]
    assert usage == [f"pod {POD} container app uses 94% of its memory limit (240Mi of 256Mi)"]


def test_secrets_never_requested_and_configmap_values_hidden(executor, kube):
    result = executor.execute("exec-sampler", CTX, {"steps": [5]})
    assert "s3cret" not in result.steps[0].output and "DATABASE_URL" in result.steps[0].output
    assert not any("secrets" in r["path"] for r in kube.requests)


@pytest.mark.both_stores
def test_records_page_survive_restart_and_filter(exec_settings, runbook_service, kube, executor, clock):
    from kubernetes import client as k8s

    made = []
    for _ in range(3):
        made.append(executor.execute("exec-sampler", CTX, {"steps": [1]}).execution_id)
        clock.advance(seconds=1)
    waiting = executor.execute("exec-sampler", CTX, {"dry_run": False, "steps": [10]})
    restarted = RunbookService(exec_settings, clock=clock)  # another process: its own store and engine
    fresh = restarted.make_executions(kube_configuration=k8s.Configuration(host=kube.url))
    first = fresh.list_executions(limit=2)
    second = fresh.list_executions(limit=2, cursor=first.next_cursor)
    assert [e.execution_id for e in first.executions + second.executions] == [waiting.execution_id, *made[::-1]]
    assert second.next_cursor is None
    assert [e.execution_id for e in fresh.list_executions(status="awaiting_approval").executions] == [waiting.execution_id]
    assert fresh.approve(waiting.execution_id, "alice").status == "completed"  # approval works after a restart
    assert fresh.list_executions(runbook_id="nope").executions == []
    with pytest.raises(InvalidInput):
        fresh.get("../../etc/passwd")
    with pytest.raises(InvalidInput, match="cursor"):
        fresh.list_executions(cursor="not-a-cursor")
    with pytest.raises(NotFound):
        fresh.get("exec-000000000000")
    restarted.close()


@pytest.mark.both_stores
def test_audit_log_records_plan_steps_decisions_and_cluster(executor, exec_settings):
    result = executor.execute("exec-sampler", CTX, {"dry_run": False, "steps": [7, 10]}, requester="claude")
    with pytest.raises(Forbidden):
        executor.approve(result.execution_id, "claude")
    executor.approve(result.execution_id, "alice")
    exported = io.StringIO()
    executor.audit.store.audit.export_jsonl(exported)  # the audit log leaves the store as JSONL
    mine = [e for e in map(json.loads, exported.getvalue().splitlines())
            if e.get("execution_id") == result.execution_id]
    assert [e["event"] for e in mine] == ["execute.plan", "execute.step", "execute.step", "execute.finish",
                                         "approval.refused", "approval.approved", "execute.applying",
                                         "execute.apply", "execute.finish"]
    assert mine[0]["plan_hash"] == result.plan_hash and mine[5]["approver"] == "alice"
    assert mine[0]["cluster"] == mine[6]["cluster"] == result.cluster.server
    assert mine[1]["result"] == "manual" and "exec" in mine[1]["reason"]
    assert mine[0]["time"] == "2031-05-17T09:30:00+00:00"  # the injected clock


def test_operations_through_the_client(make_executor, kube, exec_library):
    (exec_library / "static" / "ops.md").write_text(
        "---\nid: ops\n---\n# Ops\n\n## Fix\n```bash\n"
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
    result = svc.execute("ops", {**CTX, "replicas": "6"}, {"dry_run": False, "option": "A"})
    assert [s.result for s in result.steps] == ["pending_approval"] * 6 + ["success"] * 3
    assert "- replicas: 2" in result.steps[0].diff and "+ replicas: 6" in result.steps[0].diff
    assert "1 of 2 updated replicas are available" in result.steps[6].output
    assert any("maxReplicas" in f.text for f in result.findings)
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
    assert len(kube.changes()) == 6


def test_unreachable_cluster_says_so_once(make_executor, kube):
    svc = make_executor(host="http://127.0.0.1:9")  # nothing listens on the discard port
    result = svc.execute("exec-sampler", CTX, {"steps": [1, 2, 3]})
    assert result.outcome == "no_cluster" and "cannot reach the Kubernetes API" in result.message
    assert {s.result for s in result.steps} == {"skipped"} and all(s.reason is None for s in result.steps)


def test_no_cluster_configuration_is_one_message(exec_settings, runbook_service, tmp_path):
    settings = exec_settings.model_copy(update={"kubeconfig": tmp_path / "missing-kubeconfig"})
    svc = runbook_service.make_executions(settings)
    result = svc.execute("pod-crashloopbackoff", CTX)
    assert result.outcome == "no_cluster" and result.message.count("no usable cluster configuration") == 1
    assert all(s.reason is None for s in result.steps if s.result == "skipped")
    assert result.cluster is None


def test_all_refused_outcome(executor, kube, exec_library):
    (exec_library / "static" / "bad.md").write_text(
        "---\nid: bad\n---\n# Bad\n\n## Diagnosis\n```bash\nkubectl get secrets\nkubectl -n kube-system get pods\n```\n")
    result = executor.execute("bad", CTX)
    assert result.outcome == "all_refused" and "none of the 2 planned step(s) can run" in result.message
    assert kube.requests == []


def test_bad_input_is_a_clear_error(executor):
    with pytest.raises(NotFound):
        executor.execute("no-such-runbook", CTX)
    with pytest.raises(InvalidInput, match="no step"):
        executor.execute("exec-sampler", CTX, {"steps": [99]})
    with pytest.raises(InvalidInput, match="no option"):
        executor.execute("exec-sampler", CTX, {"option": "Z"})
    with pytest.raises(InvalidInput):
        executor.list_executions(limit=0)
