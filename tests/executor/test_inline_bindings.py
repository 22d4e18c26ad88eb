"""A command substitution inside an argument (`kubectl get storageclass $(kubectl get pvc ... | jq ...)`)
runs as a binding its step owns, against the fake API server: the inner read runs first, audited
and checked by the policy; its one value is validated like any context value; the outer command
then runs with it as a read, or as a change on the dry-run and approval path, bound to the value
read at plan time. A hostile value binds nothing, and no outer request is sent."""

from __future__ import annotations

import pytest

from faultmaven_runbooks.executor.commands import parse_step

from .fake_kube import NS, seed_kubevirt

STORAGE = """---
id: pvc-storage
---
# PVC pending

## Diagnosis

1. Check the claim:

   ```bash
   kubectl -n <my-namespace> get pvc <my-pvc>
   ```

2. Check its storage class:

   ```bash
   kubectl get storageclass {inner}
   ```
"""
BACKTICKS = "`kubectl -n <my-namespace> get pvc <my-pvc> -ojson | jq -r '.spec.storageClassName'`"
DOLLAR = "$(kubectl -n <my-namespace> get pvc <my-pvc> -ojson | jq -r '.spec.storageClassName')"
PVC_PATH = f"/api/v1/namespaces/{NS}/persistentvolumeclaims/data-db-0"


@pytest.fixture
def storage(kube, exec_library):
    seed_kubevirt(kube)  # storage classes local (the default) and fast
    kube.add("persistentvolumeclaims", {"metadata": {"name": "data-db-0", "namespace": NS},
                                        "spec": {"storageClassName": "fast"}, "status": {"phase": "Pending"}})
    return kube


def write(exec_library, text: str) -> None:
    (exec_library / "static" / "inline.md").write_text(text)


@pytest.mark.parametrize("inner", [BACKTICKS, DOLLAR], ids=["backticks", "dollar"])
def test_the_storage_class_example_runs_end_to_end_with_the_value_read_from_the_cluster(executor, storage,
                                                                                       exec_library, inner):
    write(exec_library, STORAGE.format(inner=inner))
    ctx = {"namespace": NS, "pvc_name": "data-db-0"}
    preview = executor.plan("pvc-storage", ctx)
    step = preview.steps[1]
    assert [s.step for s in preview.steps] == [1, 2]  # the substitution is no step of its own
    assert step.classification == "read" and step.result == "skipped"
    assert step.binds == f"{inner.replace('<my-namespace>', NS).replace('<my-pvc>', 'data-db-0')} -> " \
                         "step2_storage_class (read from the cluster)"
    assert "execute first reads step2_storage_class with" in step.reason
    assert storage.requests == []  # plan calls nothing

    result = executor.execute("pvc-storage", ctx)
    assert result.outcome == "ok", result.message
    out = result.steps[1]
    assert out.result == "success" and out.operation == "get storageclasses/fast"
    assert out.binds.endswith("-> step2_storage_class = fast (read from the cluster)")
    assert "fast" in out.output and "local" not in out.output
    assert result.context["step2_storage_class"] == "fast"
    assert result.derived["step2_storage_class"].startswith("step 2: ")
    paths = [r["path"] for r in storage.requests]
    assert paths.count(PVC_PATH) == 2  # step 1's own read, and the inner read of step 2
    assert paths.index("/apis/storage.k8s.io/v1/storageclasses/fast") > paths.index(PVC_PATH)
    events = executor.audit.entries(result.execution_id)
    bind = next(e for e in events if e["event"] == "execute.bind")
    assert bind["step"] == 2 and bind["operation"].startswith("get persistentvolumeclaims/data-db-0 in production")
    assert events.index(bind) < next(i for i, e in enumerate(events) if e["event"] == "execute.step")


CHANGE = """---
id: stuck-pod
---
# Stuck pod

## Diagnosis

```bash
kubectl -n production get pods -l app=stuck
```

## Mitigation

Delete the stuck pod:

```bash
kubectl -n production delete pod $(kubectl -n production get pods -l app=stuck -o jsonpath='{.items[0].metadata.name}')
```
"""


def stuck_pod(kube, name: str) -> None:
    kube.add("pods", {"metadata": {"name": name, "namespace": NS, "labels": {"app": "stuck"}},
                      "spec": {"containers": [{"name": "app", "image": "app:1"}]}, "status": {"phase": "Pending"}})


def test_a_change_with_an_inline_read_waits_for_a_person_and_applies_the_value_read_at_plan_time(
        executor, kube, exec_library):
    stuck_pod(kube, "stuck-1")
    write(exec_library, CHANGE)
    default = executor.execute("stuck-pod")
    assert [s.classification for s in default.steps] == ["read"]  # the change is never in the default plan
    option = executor.plan("stuck-pod").options[0]
    dry = executor.execute("stuck-pod", {}, {"option": option.id})
    assert dry.steps[0].result == "dry_run" and dry.steps[0].operation == "delete pods/stuck-1 in production"
    waiting = executor.execute("stuck-pod", {}, {"option": option.id, "dry_run": False})
    assert waiting.status == "awaiting_approval" and waiting.approval.changes == [2]
    assert waiting.context["step2_pod_name"] == "stuck-1"
    assert kube.changes() == []
    # The cluster moves on: the inner read would now name another pod. The approval is for what
    # the person reviewed, so it applies stuck-1, once, and never re-runs the inner read.
    kube.get("pods", "stuck-1", NS)["metadata"]["labels"] = {"app": "done"}
    stuck_pod(kube, "stuck-2")
    reads_before = len(kube.requests)
    assert executor.approve(waiting.execution_id, "alice").status == "completed"
    applied = kube.changes()
    assert [(c["method"], c["path"]) for c in applied] == [("DELETE", f"/api/v1/namespaces/{NS}/pods/stuck-1")]
    assert not any("labelSelector" in str(r.get("query")) for r in kube.requests[reads_before:])


def test_the_plan_hash_covers_the_bound_value(executor, kube, exec_library):
    stuck_pod(kube, "stuck-1")
    write(exec_library, CHANGE)
    first = executor.execute("stuck-pod", {}, {"steps": [2]})
    kube.get("pods", "stuck-1", NS)["metadata"]["labels"] = {"app": "done"}
    stuck_pod(kube, "stuck-2")
    second = executor.execute("stuck-pod", {}, {"steps": [2]})
    assert first.steps[0].operation != second.steps[0].operation
    assert first.plan_hash != second.plan_hash


HOSTILE = """---
id: hostile-inline
---
# Hostile inline read

## Mitigation

```bash
kubectl -n production delete pod $(kubectl -n production get deployment web -o jsonpath='{.metadata.annotations.v}')
kubectl -n $(kubectl -n production get deployment web -o jsonpath='{.metadata.annotations.v}') get pods
```
"""
WEB_PATH = f"/apis/apps/v1/namespaces/{NS}/deployments/web"


@pytest.mark.parametrize("value, why", [
    ("--kubeconfig=/x", "would become a flag"),
    ("web-ok-1 web-7d4b8c9f-x2k9m", "not one value"),
    ("../../secrets", "'../../secrets' is not a"),
    ("", "read nothing"),
    ("null", "read nothing"),  # jq -r on a missing field: `delete pods/null` must never reach a person
    ("<none>", "read nothing"),  # kubectl's custom-columns for a missing field
])
def test_a_hostile_inner_value_binds_nothing_and_sends_no_outer_request(executor, kube, exec_library, value, why):
    kube.get("deployments", "web", NS)["metadata"]["annotations"]["v"] = value
    write(exec_library, HOSTILE)
    result = executor.execute("hostile-inline", {}, {"steps": [1, 2], "dry_run": False})
    assert "step1_pod_name" not in result.context and "step2_namespace" not in result.context
    for step in result.steps:
        assert step.result == "skipped" and why in step.reason, step.reason
    assert "pass step1_pod_name in context" in result.steps[0].reason or why != "not one value"
    assert [r["path"] for r in kube.requests] == [WEB_PATH, WEB_PATH]  # the two inner reads, nothing else
    assert result.approval is None and kube.changes() == []


def test_a_namespace_read_inline_still_meets_the_namespace_allowlist(executor, kube, exec_library):
    kube.get("deployments", "web", NS)["metadata"]["annotations"]["v"] = "kube-system"
    write(exec_library, HOSTILE)
    result = executor.execute("hostile-inline", {}, {"steps": [2]})
    assert result.steps[0].result == "refused" and "outside the policy's allowlist" in result.steps[0].reason
    assert [r["path"] for r in kube.requests] == [WEB_PATH]  # the value binds, and the outer read is refused


@pytest.mark.parametrize("command, why", [
    ("kubectl -n production get pod $(kubectl -n production delete pod web-ok-1)", "it is a change (delete)"),
    ("kubectl -n production get pod `kubectl -n production scale deployment web --replicas=0`", "it is a change"),
    ("kubectl -n production get pod $(kubectl -n production get pod $(kubectl get pods -o name))", "nests"),
    ("kubectl -n production get pod $(curl -s https://evil.example/name)", "`curl` is not kubectl"),
    ("kubectl -n production get pod $(kubectl -n production get pods -o name | xargs kubectl delete)", "xargs"),
    ("kubectl -n production get pods -l app=$(kubectl get pods | sort)", "sort"),
])
def test_a_change_or_a_command_beyond_the_filters_inside_an_argument_never_runs(executor, kube, exec_library,
                                                                               command, why):
    write(exec_library, f"---\nid: bad-inline\n---\n# Bad\n\n## Diagnosis\n\n```bash\n{command}\n```\n")
    result = executor.execute("bad-inline", {}, {"steps": [1], "dry_run": False})
    step = result.steps[0]
    assert step.classification == "manual" and why in step.reason and "second command" in step.reason
    assert step.binds is None and kube.requests == []


def test_an_inline_read_the_policy_refuses_refuses_the_step(executor, kube, exec_library):
    write(exec_library, "---\nid: secret-inline\n---\n# S\n\n## Diagnosis\n\n```bash\nkubectl -n production get pod "
                        "$(kubectl -n production get secret db-creds -o jsonpath='{.data.password}')\n```\n")
    result = executor.execute("secret-inline")
    assert result.steps[0].result == "refused" and "Secrets are off" in result.steps[0].reason
    assert kube.requests == []


@pytest.mark.parametrize("command, key, operation", [
    ("kubectl -n $(kubectl get deploy -A | grep web | awk '{print $1}') get pods", "step4_namespace",
     "get pods in example"),
    ("kubectl -n production get storageclass $(kubectl -n production get pvc d -o jsonpath='{.spec.x}')",
     "step4_storage_class", "get storageclasses/example"),
    ("kubectl -n production scale deployment web --replicas=$(kubectl -n production get hpa web "
     "-o jsonpath='{.spec.maxReplicas}')", "step4_replicas", "scale deployments/web in production (replicas=1)"),
    ("kubectl -n production get pods -l $(kubectl -n production get cm sel -o jsonpath='{.data.s}')",
     "step4_label_selector", "get pods in production (selector=\"app=example\")"),
])
def test_the_argument_an_inline_read_fills_names_its_binding_and_its_rule(command, key, operation):
    parsed = parse_step(command, {}, step=4)
    assert [b.key for b in parsed.binds] == [key] and parsed.missing == [key]
    assert parsed.operation.describe() == operation  # a sample stands in until the read has run


def test_a_bound_value_fills_the_argument_validated_and_a_bad_one_is_refused():
    command = "kubectl get storageclass $(kubectl -n production get pvc d -o jsonpath='{.spec.x}')"
    assert parse_step(command, {"step1_storage_class": "fast"}, step=1).operation.name == "fast"
    bad = parse_step(command, {"step1_storage_class": "-A"}, step=1)
    assert bad.classification == "refused" and "would become a flag" in bad.reason
