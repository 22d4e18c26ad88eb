"""Read steps whose text must be what kubectl (and grep, awk, head, wc, jq) print for the same
objects. `test_kubectl_output.py` checks the executor against outputs recorded from kubectl
v1.32 on the fake API server (fixtures/kubectl_outputs.json), and against a live kubectl when
one is installed. Regenerate the recording with:

    .venv/bin/python -m tests.executor.kubectl_cases
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

RECORDED = Path(__file__).parent / "fixtures" / "kubectl_outputs.json"

CASES = [
    "kubectl -n production get pods -o jsonpath='{.items[*].metadata.name}'",
    "kubectl -n production get pods -o jsonpath='{range .items[*]}{.metadata.name}{\"\\t\"}{.status.phase}{\"\\n\"}{end}'",
    "kubectl -n kubevirt get kubevirt kubevirt -o jsonpath='{.status.conditions[?(@.type==\"Available\")].status}'",
    "kubectl -n kubevirt get kubevirt kubevirt -o jsonpath='{.status.conditions}'",
    "kubectl get sc -o jsonpath='{.items[?(.metadata.annotations.storageclass\\.kubernetes\\.io\\/is-default-class==\"true\")].metadata.name}'",
    "kubectl get deployment -A -o jsonpath='{.items[?(.metadata.name==\"cdi-operator\")].metadata.namespace}'",
    "kubectl get kubevirt -A -o jsonpath='{.items[].metadata.namespace}'",
    "kubectl -n production get pods -o jsonpath='{.items[?(@.status.containerStatuses[0].restartCount>3)].metadata.name}'",
    "kubectl -n kubevirt get kubevirt -o jsonpath-as-json='{.items[*].status.conditions[*].type}'",
    "kubectl get kubevirt -A -o custom-columns=\"\":.metadata.namespace",
    "kubectl get kubevirt -A -o custom-columns=NS:.metadata.namespace,C:.status.conditions[*].type,X:.spec",
    "kubectl get pods -A -o custom-columns=N:.metadata.name,R:.status.containerStatuses[0].restartCount "
    "--sort-by=.status.containerStatuses[0].restartCount",
    "kubectl -n production get pods -o custom-columns=NAME:.metadata.name --no-headers",
    "kubectl -n production get pods -o name",
    "kubectl get deploy -A -o name",
    "kubectl get sc -o name",
    "kubectl -n cdi get dataimportcron fedora-image-cron -o jsonpath='{.status.lastImportedPVC.name}{\"\\n\"}'",
    "kubectl get storageprofile local -o jsonpath='{.status.claimPropertySets}' | grep ReadWriteOnce",
    "kubectl get deployment -A | grep cdi-operator | awk '{print $1}'",
    "kubectl get deployment -A --no-headers | grep -v kube-system | awk '{print $2}'",
    "kubectl -n production get pods -o name | head -n1",
    "kubectl -n production get pods -o name | wc -l",
    "kubectl -n kubevirt logs virt-controller-7f9c-abcde | grep -iE 'webhook|admission|forbidden|denied'",
    "kubectl -n kubevirt logs virt-controller-7f9c-abcde | grep -v lease | tail -n 1",
    "kubectl -n kubevirt logs virt-controller-7f9c-abcde | grep -c lease",
    "kubectl -n kubevirt logs virt-controller-7f9c-abcde | grep -n -A1 attempting",
    "kubectl -n production get pods -o yaml | grep -c 'image:'",
    "kubectl get pods -A -o custom-columns=NS:.metadata.namespace,N:.metadata.name --no-headers | awk '$1 == \"production\" {print $2}'",
    "kubectl get pods -A -o custom-columns=NS:.metadata.namespace,N:.metadata.name | awk 'NR==1{print $2}'",
    "kubectl get pods -A -o name | awk -F/ '{print $2}'",
    "kubectl -n production get deploy web -o json | jq -r '.spec.template.spec.containers[].name'",
    "kubectl -n kubevirt get kubevirt kubevirt -o json | jq '.status.conditions[] | select(.status == \"False\")'",
    "kubectl get pods -A -o json | jq -r '.items[] | select(.status.phase == \"Running\") | .metadata.name'",
]


def fake_cluster():
    from .fake_kube import FakeKube, seed, seed_kubevirt

    return seed_kubevirt(seed(FakeKube()))


def run_kubectl(command: str, kubeconfig: Path) -> str:
    """The step run by a real shell with a real kubectl against the fake (a test harness only)."""
    env = {"KUBECONFIG": str(kubeconfig), "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(kubeconfig.parent),
           "LC_ALL": "C"}
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, env=env, timeout=60)
    return done.stdout


def tools_present() -> bool:
    return all(shutil.which(t) for t in ("kubectl", "bash", "jq"))


def record() -> None:
    fake = fake_cluster().start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            kubeconfig = fake.kubeconfig(Path(folder) / "kubeconfig")
            version = subprocess.run(["kubectl", "version", "--client"], capture_output=True, text=True).stdout
            outputs = {command: run_kubectl(command, kubeconfig) for command in CASES}
    finally:
        fake.stop()
    RECORDED.write_text(json.dumps({"kubectl": version.splitlines()[0], "outputs": outputs}, indent=1) + "\n")
    print(f"recorded {len(outputs)} outputs to {RECORDED}")


if __name__ == "__main__":
    record()
