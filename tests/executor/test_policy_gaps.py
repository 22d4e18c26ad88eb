"""One test per policy gap the issue found applied after one approval (or none, fully automated).

Each runs the step through the executor under the loosest policy (fully automated, every change
low risk) against the fake API server, and checks what reached the cluster.
"""

from __future__ import annotations

import json
import logging

import pytest

from faultmaven_runbooks.executor.policy import NamespacePolicy, Policy
from faultmaven_runbooks.service import RunbookService

from .conftest import CTX, NS

LOOSE = Policy(mode="fully-automated", namespaces=NamespacePolicy(allow=["*"]),
               low_risk=["delete", "scale", "patch", "set-resources", "label", "annotate", "rollout-restart"])
AUTO = {"dry_run": False, "auto_execute": True, "steps": [1]}


@pytest.fixture
def attempt(make_executor, kube, exec_library):
    svc = make_executor(LOOSE)
    count = [0]

    def run(command: str, context: dict | None = None):
        count[0] += 1
        rid = f"gap-{count[0]}"
        (exec_library / "static" / f"{rid}.md").write_text(
            f"---\nid: {rid}\n---\n# Gap\n\n## Fix\n```bash\n{command}\n```\n")
        return svc.execute(rid, {**CTX, **(context or {})}, AUTO, requester="agent").steps[0]

    return run


def _patch(body: dict) -> str:
    return f"kubectl -n {{namespace}} patch deployment {{deployment}} -p '{json.dumps(body)}'"


@pytest.mark.parametrize("flags", ["--grace-period=0", "--grace-period=0 --force", "--force"])
def test_grace_period_zero_is_a_force_delete(attempt, kube, flags):
    step = attempt(f"kubectl -n {{namespace}} delete pod {{pod_name}} {flags}")
    assert step.result == "refused" and "force delete" in step.reason
    assert kube.requests == []


@pytest.mark.parametrize("command", [
    "kubectl label namespace kube-system owner=me --overwrite",
    "kubectl annotate ns kube-system owner=me",
    "kubectl label ns kube-public team=x",
    "kubectl get namespace kube-system -o yaml",
])
def test_a_denied_namespace_object_is_denied_too(attempt, kube, command):
    step = attempt(command)
    assert step.result == "refused" and "outside the policy's allowlist" in step.reason
    assert kube.requests == []


def test_pod_security_labels_are_refused_on_any_namespace(attempt, kube):
    step = attempt(f"kubectl label ns {NS} pod-security.kubernetes.io/enforce=privileged --overwrite")
    assert step.result == "refused" and "Pod Security" in step.reason and kube.requests == []


@pytest.mark.parametrize("command", [
    _patch({"spec": {"replicas": 5000}}),
    _patch({"spec": {"replicas": "5000"}}),
    "kubectl -n {namespace} patch hpa {hpa_name} -p '{\"spec\":{\"maxReplicas\":5000}}'",
    "kubectl -n {namespace} patch hpa {hpa_name} -p '{\"spec\":{\"minReplicas\":999}}'",
    "kubectl -n {namespace} scale deployment/{deployment} --replicas=5000",
    "kubectl -n {namespace} scale statefulset {statefulset} --replicas={replicas}",
])
def test_replica_bounds_hold_on_every_path(attempt, kube, command):
    step = attempt(command, {"replicas": "51"})
    assert step.result == "refused" and "max_replicas" in step.reason
    assert kube.changes() == [] and not any(r["method"] == "PATCH" for r in kube.requests)


def test_replicas_within_bounds_still_apply(attempt, kube):
    step = attempt(_patch({"spec": {"replicas": 3}}))
    assert step.result == "success" and kube.get("deployments", "web", NS)["spec"]["replicas"] == 3
    assert len(kube.changes()) == 1


@pytest.mark.parametrize("spec", [
    {"hostNetwork": True}, {"hostPID": True}, {"hostIPC": True}, {"serviceAccountName": "admin"},
    {"containers": [{"name": "app", "securityContext": {"privileged": True}}]},
    {"containers": [{"name": "app", "securityContext": {"capabilities": {"add": ["SYS_ADMIN"]}}}]},
    {"volumes": [{"name": "h", "hostPath": {"path": "/"}}]},
])
def test_privileged_pod_spec_keys_in_a_patch_are_refused(attempt, kube, spec):
    step = attempt(_patch({"spec": {"template": {"spec": spec}}}))
    assert step.result == "refused" and "remote code execution" in step.reason and kube.requests == []


@pytest.mark.parametrize("spec", [
    {"tolerations": [{"operator": "Exists"}]}, {"nodeSelector": {"node-role.kubernetes.io/control-plane": ""}},
    {"affinity": {"nodeAffinity": {}}}, {"dnsConfig": {"nameservers": ["10.9.9.9"]}},
])
def test_scheduling_keys_take_the_high_risk_path(attempt, kube, spec):
    step = attempt(_patch({"spec": {"template": {"spec": spec}}}))
    # even with `patch` listed as low risk, these wait for a person: never applied by the policy alone
    assert step.result == "pending_approval" and step.risk == "high" and "high risk" in step.reason
    assert kube.changes() == []


def test_a_symlink_out_of_the_library_is_skipped_with_one_warning(tmp_path, caplog):
    library = tmp_path / "library"
    (library / "static").mkdir(parents=True)
    (library / "static" / "disk.md").write_text("---\nid: disk\n---\n# Disk full\n\n## Diagnosis\nThe disk is full.\n")
    secret = tmp_path / "outside.md"
    secret.write_text("# Secret\n\nnot a runbook of this library\n")
    (library / "static" / "leak.md").symlink_to(secret)
    from faultmaven_runbooks.settings import Settings

    service = RunbookService(Settings(library_dir=library, data_dir=tmp_path / "data", embedding_model="hash:256"))
    with caplog.at_level(logging.WARNING, logger="faultmaven_runbooks"):
        service.ready()  # the first pass done: a search alone answers from what is indexed so far
        assert [h.id for h in service.search("disk is full").results] == ["disk"]
        created = service.authoring.create_runbook("Memory leak", "## Diagnosis\nCheck memory.\n", type="static")
        assert created.created
        learned = service.learning.learn({"type": "disk_full", "diagnosis": ["logs_filled_disk"],
                                          "resolution": ["rotate_logs"], "success": True})
        assert learned is not None
        service.search("memory leak")
    warnings = [r for r in caplog.records if "outside the library" in r.getMessage()]
    assert len(warnings) == 1 and "leak.md" in warnings[0].getMessage()
    assert service.health()["status"] == "ok" and service.health()["library_files"] >= 2
