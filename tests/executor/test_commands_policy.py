"""Parsing steps into typed operations, placeholder validation, and the YAML policy."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from faultmaven_runbooks.errors import InvalidInput
from faultmaven_runbooks.executor.commands import parse_step
from faultmaven_runbooks.executor.policy import load_policy

CTX = {"namespace": "production", "pod_name": "web-1", "deployment": "web", "container": "app",
       "memory_limit": "1Gi", "replicas": "3", "label_selector": "app=web,tier!=cache"}


@pytest.mark.parametrize("command, verb, kind, name, options", [
    ("kubectl -n {namespace} get pods -l {label_selector} -o wide", "get", "pods", None,
     {"selector": "app=web,tier!=cache", "output": "wide"}),
    ("kubectl get deploy/{deployment} --namespace={namespace}", "get", "deployments", "web", {}),
    ("kubectl -n {namespace} logs {pod_name} -c {container} -p --tail=50", "logs", "pods", "web-1",
     {"container": "app", "previous": True, "tail": 50}),
    ("kubectl -n {namespace} set resources deployment/{deployment} -c {container} --limits=memory={memory_limit},cpu=500m",
     "set-resources", "deployments", "web", {"container": "app", "limits": {"memory": "1Gi", "cpu": "500m"}}),
    ("kubectl -n {namespace} scale statefulset db --replicas={replicas}", "scale", "statefulsets", "db", {"replicas": 3}),
    ("kubectl uncordon node-1", "uncordon", "nodes", "node-1", {}),
    ("kubectl -n {namespace} rollout undo deployment.apps/{deployment} --to-revision=2", "rollout-undo",
     "deployments", "web", {"to_revision": 2}),
    ("kubectl -n {namespace} annotate pod {pod_name} note- --overwrite", "annotate", "pods", "web-1",
     {"changes": {"note": None}, "overwrite": True}),
    ("kubectl events -n {namespace} --for pod/{pod_name}", "get", "events", None,
     {"field_selector": "involvedObject.name=web-1"}),
])
def test_runbook_lines_become_typed_operations(command, verb, kind, name, options):
    parsed = parse_step(command, CTX)
    assert parsed.classification in ("read", "change"), parsed.reason
    op = parsed.operation
    assert (op.verb, op.kind, op.name) == (verb, kind, name)
    assert op.namespace == (None if kind == "nodes" else "production")
    for key, value in options.items():
        assert op.options[key] == value


def test_values_never_become_extra_arguments():
    parsed = parse_step("kubectl -n {namespace} get pod {pod_name}", {**CTX, "pod_name": "web-1 -o yaml"})
    assert parsed.classification == "refused" and parsed.operation is None


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=80))
def test_any_value_is_either_one_valid_name_or_refused(value):
    parsed = parse_step("kubectl -n {namespace} delete pod {pod_name}", {"namespace": "production", "pod_name": value})
    if parsed.classification == "refused":
        assert parsed.reason
    else:
        assert parsed.operation.name == value and value.isascii() and " " not in value and not value.startswith("-")


def test_policy_yaml_loads_and_rejects_bad_files(tmp_path):
    good = tmp_path / "policy.yaml"
    good.write_text("mode: manual\nnamespaces:\n  allow: [prod-*]\n  deny: []\nallow_secrets: false\nmax_replicas: 5\n")
    policy = load_policy(good)
    assert policy.mode == "manual" and policy.namespace_allowed("prod-eu") and not policy.namespace_allowed("dev")
    assert str(good) in policy.describe()
    for text, hint in (("mode: yolo\n", "mode"), ("nope: 1\n", "nope"), ("- a\n", "mapping"), ("a: [\n", "YAML")):
        bad = tmp_path / "bad.yaml"
        bad.write_text(text)
        with pytest.raises(InvalidInput, match=hint):
            load_policy(bad)
    assert load_policy(None).source == "built-in defaults"


def test_shipped_example_policy_is_valid():
    from pathlib import Path

    policy = load_policy(Path(__file__).resolve().parents[2] / "deploy" / "policy.example.yaml")
    assert policy.allow_secrets is False and policy.mode == "semi-automated"
