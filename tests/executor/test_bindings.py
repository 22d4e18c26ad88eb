"""Runbooks as people write them, run end to end against the fake API server: a set-up line binds
a namespace from the cluster, `$VARIABLES` and `<placeholders>` fill the later steps, custom
resources go through discovery and the same dry-run and approval path, -A reads stay inside the
namespace allowlist, and a value bound from a read is as untrusted as any caller's value."""

from __future__ import annotations

import pytest

from faultmaven_runbooks.executor.policy import GroupPolicy, Policy

from .fake_kube import CDI_NS, HCO_NS, seed_kubevirt

CDI_RUNBOOK = """---
id: cdi-down
---
# CDIOperatorDown

## Diagnosis

1. Set the `CDI_NAMESPACE` environment variable:

   ```bash
   export CDI_NAMESPACE="$(kubectl get deployment -A | grep cdi-operator | awk '{print $1}')"
   ```

2. Check the deployment and its pods:

   ```bash
   $ kubectl -n $CDI_NAMESPACE get deployment cdi-operator -o jsonpath='{.status.readyReplicas}'
   1
   $ kubectl -n $CDI_NAMESPACE get pods -l name=cdi-operator
   ```

3. Check the last import of the data import cron:

   ```bash
   kubectl -n ${CDI_NAMESPACE} get dataimportcron <dataimportcron> \\
     -o jsonpath='{.status.lastImportedPVC.name}'
   ```

## Mitigation

Stop importing the common boot images in the HyperConverged resource:

```bash
kubectl patch hco kubevirt-hyperconverged -n kubevirt-hyperconverged --type json -p '[{"op": "replace", "path": "/spec/featureGates/enableCommonBootImageImport", "value": false}]'
```
"""
HCO_PATH = f"/apis/hco.kubevirt.io/v1beta1/namespaces/{HCO_NS}/hyperconvergeds/kubevirt-hyperconverged"


@pytest.fixture
def cdi(exec_library, kube):
    seed_kubevirt(kube)
    (exec_library / "static" / "cdi-down.md").write_text(CDI_RUNBOOK)
    return kube


def test_plan_shows_the_binding_and_what_waits_for_it_without_calling_the_cluster(executor, cdi):
    preview = executor.plan("cdi-down")
    steps = {s.step: s for s in preview.steps}
    assert [s.step for s in preview.steps] == [1, 2, 3, 4]  # the output line under the prompt is no step
    assert steps[1].classification == "read"
    assert steps[1].binds == "CDI_NAMESPACE -> cdi_namespace (read from the cluster)"
    assert steps[1].operation == ("get deployments in every allowed namespace | grep cdi-operator | "
                                  "awk '{print $1}'")
    assert steps[2].result == "skipped" and "step 1 binds cdi_namespace" in steps[2].reason
    assert "needs cdi_namespace, dataimportcron" in steps[4].reason  # <dataimportcron> asked for by name
    assert preview.approvals_needed == [] and cdi.requests == []


def test_set_up_line_binds_the_namespace_from_the_cluster_and_the_steps_use_it(executor, cdi):
    result = executor.execute("cdi-down", {"dataimportcron": "fedora-image-cron"})
    assert result.outcome == "ok", result.message
    steps = {s.step: s for s in result.steps}
    assert result.context["cdi_namespace"] == CDI_NS
    assert result.derived["cdi_namespace"].startswith("step 1: export CDI_NAMESPACE=")
    assert steps[1].output == f"{CDI_NS}\n"
    assert steps[2].output == "1" and steps[2].command.startswith(f"kubectl -n {CDI_NS} get deployment")
    assert steps[4].output == "fedora-1a2b"
    reads = [r["path"] for r in cdi.requests]
    assert reads.count("/apis/apps/v1/deployments") == 1  # the set-up read ran once, not again as step 1
    events = executor.audit.entries(result.execution_id)  # the audit log lives in the state store
    bind = next(e for e in events if e["event"] == "execute.bind")
    assert bind["step"] == 1 and events.index(bind) < next(  # audited before the steps ran
        i for i, e in enumerate(events) if e["event"] == "execute.step")
    assert f"/apis/cdi.kubevirt.io/v1beta1/namespaces/{CDI_NS}/dataimportcrons/fedora-image-cron" in reads
    assert not any(r["method"] in ("PATCH", "DELETE") for r in cdi.requests)  # the default plan only reads


def test_a_custom_resource_change_is_dry_run_then_waits_for_a_person(executor, cdi):
    option = executor.plan("cdi-down").options[0]
    dry = executor.execute("cdi-down", {}, {"option": option.id})
    change = next(s for s in dry.steps if s.classification == "change")
    assert change.result == "dry_run" and "enableCommonBootImageImport" in change.diff
    sent = [r for r in cdi.requests if r["method"] == "PATCH"]
    assert [(r["path"], r["dry_run"], r["content_type"]) for r in sent] == [
        (HCO_PATH, True, "application/json-patch+json")]
    assert cdi.get("hyperconvergeds", "kubevirt-hyperconverged", HCO_NS)["spec"]["featureGates"][
        "enableCommonBootImageImport"] is True
    waiting = executor.execute("cdi-down", {}, {"option": option.id, "dry_run": False})
    assert waiting.status == "awaiting_approval" and waiting.approval.changes == [change.step]
    assert cdi.changes() == []


HOSTILE = """---
id: hostile-binding
---
# Hostile binding

## Diagnosis

```bash
export NAMESPACE="$(kubectl get deployment -A -o jsonpath='{.items[?(@.metadata.name=="web")].metadata.annotations.ns}')"
kubectl -n $NAMESPACE get pods
```
"""


@pytest.mark.parametrize("annotation, why", [
    ("--kubeconfig=/tmp/evil", "would become a flag"),
    ("production kube-system", "not one value"),
    ("../../secrets", "not a DNS-1123"),
])
def test_a_value_read_from_the_cluster_is_validated_like_any_context_value(executor, kube, exec_library,
                                                                           annotation, why):
    kube.get("deployments", "web", "production")["metadata"].setdefault("annotations", {})["ns"] = annotation
    (exec_library / "static" / "hostile.md").write_text(HOSTILE)
    result = executor.execute("hostile-binding")
    assert "namespace" not in result.context
    assert result.steps[1].result == "skipped" and result.steps[1].reason == "needs namespace"
    assert why in result.message
    assert not any("kubeconfig" in r["path"] or "secrets" in r["path"] for r in kube.requests)
    assert [r["path"] for r in kube.requests] == ["/apis/apps/v1/deployments"]


def test_a_bound_namespace_still_meets_the_namespace_allowlist(executor, kube, exec_library):
    kube.get("deployments", "web", "production")["metadata"].setdefault("annotations", {})["ns"] = "kube-system"
    (exec_library / "static" / "hostile.md").write_text(HOSTILE)
    result = executor.execute("hostile-binding")
    assert result.context["namespace"] == "kube-system"  # a valid name, so it binds ...
    assert result.steps[1].result == "refused" and "outside the policy's allowlist" in result.steps[1].reason
    assert not any("/namespaces/kube-system/" in r["path"] for r in kube.requests)  # ... and is still refused


def test_reads_across_every_namespace_never_show_a_denied_namespace(executor, kube, exec_library):
    seed_kubevirt(kube)  # adds coredns in kube-system
    (exec_library / "static" / "everywhere.md").write_text(
        "---\nid: everywhere\n---\n# Everywhere\n\n## Diagnosis\n\n```bash\nkubectl get pods -A -o wide\n"
        "kubectl get deployments --all-namespaces | grep -c coredns\nkubectl get pods -A -o json | jq -r "
        "'.items[].metadata.namespace'\n```\n")
    result = executor.execute("everywhere")
    outputs = [s.output for s in result.steps]
    assert all(s.result == "success" for s in result.steps), [s.reason for s in result.steps]
    assert "virt-controller-7f9c-abcde" in outputs[0] and "coredns" not in outputs[0]
    assert outputs[1] == "0\n"
    assert "kube-system" not in outputs[2] and "production" in outputs[2]
    assert "/api/v1/pods" in [r["path"] for r in kube.requests]  # one list, filtered before anything is shown
    assert not any("coredns" in f.text for f in result.findings)


def test_a_kind_only_discovery_knows_is_read_and_its_api_group_obeys_the_policy(make_executor, kube, exec_library):
    kube.add("widgets", {"metadata": {"name": "w1", "namespace": "production"}, "spec": {"size": 3}})
    (exec_library / "static" / "widget.md").write_text(
        "---\nid: widget\n---\n# Widget\n\n## Diagnosis\n\n```bash\nkubectl -n production get widget w1 "
        "-o jsonpath='{.spec.size}'\nkubectl -n production describe widgets.example.com w1\n```\n")
    result = make_executor().execute("widget")
    assert [s.result for s in result.steps] == ["success", "success"] and result.steps[0].output == "3"
    assert "Name:         w1" in result.steps[1].output
    kube.requests.clear()
    denied = make_executor(Policy(api_groups=GroupPolicy(deny=["example.com"]))).execute("widget")
    assert [s.result for s in denied.steps] == ["refused", "refused"]
    assert "API group 'example.com'" in denied.steps[0].reason
    assert not any("/widgets" in r["path"] for r in kube.requests)  # discovery only, never the object


OC_STEPS = """```bash
{tool} -n production get pods -o wide
{tool} -n production get deployment web -o jsonpath='{{.status.readyReplicas}}'
{tool} -n production logs web-7d4b8c9f-x2k9m --tail=50 | grep -i memory
{tool} adm top pods -n production
{tool} -n production rollout restart deployment/web
{tool} -n production scale deployment web --replicas=3
```
"""


def test_an_oc_runbook_plans_like_its_kubectl_twin(executor, exec_library):
    for tool in ("kubectl", "oc"):
        (exec_library / "static" / f"twin-{tool}.md").write_text(
            f"---\nid: twin-{tool}\n---\n# Twin\n\n## Diagnosis\n\n" + OC_STEPS.format(tool=tool.replace("kubectl adm ", "kubectl ")))
    kubectl = executor.plan("twin-kubectl", {}, {"steps": [1, 2, 3, 5, 6]})
    oc = executor.plan("twin-oc", {}, {"steps": [1, 2, 3, 4, 5, 6]})
    assert [s.operation for s in oc.steps if s.step != 4] == [s.operation for s in kubectl.steps]
    assert oc.steps[3].operation == "top pods in production" and all(s.operation for s in oc.steps)
    assert [s.classification for s in oc.steps] == ["read"] * 4 + ["change"] * 2


OPENSHIFT = """---
id: ingress-degraded
---
# IngressDegraded

## Diagnosis

```bash
oc get co ingress -o jsonpath='{.status.conditions[?(@.type=="Degraded")].message}'
oc describe clusteroperator ingress
oc get mcp worker -o custom-columns=NAME:.metadata.name,READY:.status.readyMachineCount,DEGRADED:.status.degradedMachineCount
oc -n openshift-monitoring get route console -o jsonpath='{.spec.host}'
oc adm top pods -A
oc -n openshift-ingress get pods -o name | head -n1
oc rsh -n openshift-ingress router-default-5d8-qwert
```
"""


def test_openshift_kinds_are_read_through_discovery(executor, kube, exec_library):
    from .fake_kube import seed_openshift

    seed_openshift(kube)
    kube.add("metrics-pods", {"metadata": {"name": "router-default-5d8-qwert", "namespace": "openshift-ingress"},
                              "containers": [{"name": "router", "usage": {"cpu": "50m", "memory": "64Mi"}}]})
    kube.add("metrics-pods", {"metadata": {"name": "coredns-1", "namespace": "kube-system"},
                              "containers": [{"name": "coredns", "usage": {"cpu": "5m", "memory": "16Mi"}}]})
    (exec_library / "static" / "ingress.md").write_text(OPENSHIFT)
    result = executor.execute("ingress-degraded")
    out = {s.step: s for s in result.steps}
    assert [s.result for s in result.steps] == ["success"] * 6 + ["manual"], [s.reason for s in result.steps]
    assert out[1].output == "router pods are not ready"
    assert "Name:         ingress" in out[2].output and "IngressDegraded" in out[2].output
    assert out[3].output.splitlines() == ["NAME     READY   DEGRADED", "worker   2       1"]
    assert out[4].output == "console.apps.example.test"
    assert "router-default-5d8-qwert" in out[5].output and "coredns" not in out[5].output
    assert out[6].output == "pod/router-default-5d8-qwert\n"
    assert "oc rsh opens a shell" in out[7].reason
    paths = [r["path"] for r in kube.requests]
    assert "/apis/config.openshift.io/v1/clusteroperators/ingress" in paths
    assert "/apis/route.openshift.io/v1/namespaces/openshift-monitoring/routes/console" in paths


def test_a_storage_class_patch_is_a_change_on_the_dry_run_path(executor, kube, exec_library):
    seed_kubevirt(kube)
    (exec_library / "static" / "default-sc.md").write_text(
        "---\nid: default-sc\n---\n# Default storage class\n\n## Mitigation\n\n```bash\nkubectl patch storageclass "
        "<storage-class-name> -p '{\"metadata\": {\"annotations\":{\"storageclass.kubernetes.io/is-default-class\":"
        "\"true\"}}}'\n```\n")
    result = executor.execute("default-sc", {"storage_class": "fast"}, {"steps": [1]})
    assert result.steps[0].classification == "change" and result.steps[0].result == "dry_run"
    assert [(r["path"], r["dry_run"]) for r in kube.requests if r["method"] == "PATCH"] == [
        ("/apis/storage.k8s.io/v1/storageclasses/fast", True)]
    assert kube.get("storageclasses", "fast")["metadata"]["annotations"][
        "storageclass.kubernetes.io/is-default-class"] == "false"
