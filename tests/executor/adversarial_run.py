"""Run the hostile cases through ExecutionService against a fake API server (used by the test and the benchmark)."""

from __future__ import annotations

from pathlib import Path

from kubernetes import client as k8s

from faultmaven_runbooks.clock import utc_now
from faultmaven_runbooks.executor.policy import NamespacePolicy, Policy
from faultmaven_runbooks.executor.service import ExecutionService
from faultmaven_runbooks.models import Runbook, Step
from faultmaven_runbooks.settings import Settings
from faultmaven_runbooks.storage import open_store

from .adversarial_cases import CASES

BASE_CONTEXT = {"namespace": "production", "pod_name": "web-7d4b8c9f-x2k9m", "deployment": "web",
                "container": "app", "label_selector": "app=web", "memory_limit": "1Gi", "replicas": "3",
                "node_name": "node-1", "hpa_name": "web"}


class CaseLibrary:
    """Serves one in-memory runbook per case: steps may hold bytes a markdown file cannot (NUL, newline)."""

    def __init__(self):
        self.runbooks: dict[str, Runbook] = {}

    def add(self, case_id: str, command: str) -> str:
        rid = f"adv-{case_id}"
        self.runbooks[rid] = Runbook(id=rid, title=case_id, path=f"static/{rid}.md", content=command,
                                     steps=[Step(number=1, command=command, description=case_id, section="Steps")])
        return rid

    def get(self, runbook_id: str) -> Runbook:
        return self.runbooks[runbook_id]


def hostile_policy() -> Policy:
    # The loosest reasonable policy: fully automated, every change low-risk. Even so nothing hostile may run.
    # Cluster-wide reads are off here, so -A is refused as bulk; test_bindings_and_filters shows what the
    # default (on) does: objects outside the allowlist never reach the output.
    return Policy(mode="fully-automated", namespaces=NamespacePolicy(allow=["production", "default"]),
                  cluster_wide_reads=False,
                  low_risk=["delete", "scale", "patch", "set-resources", "label", "rollout-restart"])


def run_cases(kube_url: str, data_dir: Path, requests: list) -> list[dict]:
    settings = Settings(library_dir=data_dir / "none", data_dir=data_dir, embedding_model="hash:256")
    library = CaseLibrary()
    store = open_store(settings)  # the audit log lands in data_dir's state database
    executor = ExecutionService(settings, store, library, utc_now, policy=hostile_policy(),
                                kube_configuration=k8s.Configuration(host=kube_url))
    rows = []
    try:
        for case_id, command, overrides, keyword in CASES:
            rid = library.add(case_id, command)
            before = len(requests)
            result = executor.execute(rid, {**BASE_CONTEXT, **overrides},
                                      {"dry_run": False, "auto_execute": True, "steps": [1]}, requester="attacker")
            step = result.steps[0]
            rows.append({"id": case_id, "classification": step.classification, "result": step.result,
                         "reason": step.reason or "", "keyword": keyword, "reached_api": len(requests) - before,
                         "status": result.status, "execution_id": result.execution_id})
    finally:
        executor.close()
        store.close()
    return rows
