"""The executor's output options and filters print what kubectl (and grep, awk, head, wc, jq)
print for the same objects: compared with outputs recorded from kubectl v1.32 against the fake
API server, and with a live kubectl and shell when the machine has them."""

from __future__ import annotations

import json

import pytest
from kubernetes import client as k8s

from faultmaven_runbooks.executor.commands import parse_step
from faultmaven_runbooks.executor.kube import KubeGateway
from faultmaven_runbooks.executor.policy import NamespacePolicy, Policy

from .kubectl_cases import CASES, RECORDED, fake_cluster, run_kubectl, tools_present

# kubectl shows every namespace; so does the executor when the policy denies none
OPEN = Policy(namespaces=NamespacePolicy(allow=["*"], deny=[]))


@pytest.fixture(scope="module")
def cluster():
    fake = fake_cluster().start()
    gateway = KubeGateway(k8s.Configuration(host=fake.url), policy=OPEN)
    yield fake, gateway
    gateway.close()
    fake.stop()


def executor_output(gateway: KubeGateway, command: str) -> str:
    parsed = parse_step(command, {})
    assert parsed.classification == "read", (command, parsed.reason)
    return gateway.run(parsed.operation).output


def test_every_case_was_recorded_from_kubectl():
    recorded = json.loads(RECORDED.read_text())
    assert recorded["kubectl"].startswith("Client Version: v1.32")
    assert set(recorded["outputs"]) == set(CASES)
    assert all(recorded["outputs"].values()), "kubectl printed nothing for a case: the fake lacks what it reads"


@pytest.mark.parametrize("command", CASES)
def test_output_matches_what_kubectl_printed(cluster, command):
    _, gateway = cluster
    expected = json.loads(RECORDED.read_text())["outputs"][command]
    assert executor_output(gateway, command) == expected


@pytest.mark.skipif(not tools_present(), reason="kubectl, bash and jq are not installed on this machine")
def test_output_matches_a_live_kubectl_pipeline(cluster, tmp_path):
    fake, gateway = cluster
    kubeconfig = fake.kubeconfig(tmp_path / "kubeconfig")
    differences = {c: (run_kubectl(c, kubeconfig), executor_output(gateway, c)) for c in CASES}
    assert {c: d for c, d in differences.items() if d[0] != d[1]} == {}


def test_credentials_stay_redacted_whatever_the_template(cluster):
    # kubectl would print the connection string and the env password; the executor never does
    _, gateway = cluster
    for command in ("kubectl -n production get configmap app-config -o jsonpath='{.data.DATABASE_URL}'",
                    "kubectl -n production get deploy web -o jsonpath='{.spec.template.spec.containers[0].env[0].value}'",
                    "kubectl -n production get configmap app-config -o json | jq -r '.data[]'",
                    "kubectl -n production get deploy web -o yaml | grep -A1 DB_PASSWORD"):
        out = executor_output(gateway, command)
        assert "s3cret" not in out and "hunter2" not in out and "[REDACTED]" in out, (command, out)
