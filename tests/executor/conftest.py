"""Executor fixtures: a fake Kubernetes API server on 127.0.0.1 and services pointed at it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from kubernetes import client as k8s

from faultmaven_runbooks.executor.policy import Policy
from faultmaven_runbooks.executor.service import ExecutionService
from faultmaven_runbooks.service import RunbookService
from faultmaven_runbooks.settings import Settings

from .fake_kube import FakeKube

HERE = Path(__file__).parent
SHIPPED = HERE.parent.parent / "runbooks"
NS = "production"
POD = "web-7d4b8c9f-x2k9m"
CTX = {"namespace": NS, "pod_name": POD, "deployment": "web", "container": "app",
       "label_selector": "app=web", "memory_limit": "1Gi", "revision": "1", "replicas": "3",
       "node_name": "node-1", "statefulset": "db", "hpa_name": "web"}


def _pod_template(image: str, memory: str) -> dict:
    return {"metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "app", "image": image,
                                     "env": [{"name": "DB_PASSWORD", "value": "hunter2"}],
                                     "resources": {"limits": {"memory": memory}}}]}}


def seed(fake: FakeKube) -> FakeKube:
    dep = fake.add("deployments", {"metadata": {"name": "web", "namespace": NS, "labels": {"app": "web"},
                                                "annotations": {"deployment.kubernetes.io/revision": "2"}},
                                   "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                                            "template": _pod_template("web:2.0", "256Mi")},
                                   "status": {"replicas": 2, "updatedReplicas": 2, "readyReplicas": 1,
                                              "availableReplicas": 1, "observedGeneration": 1}})
    uid = dep["metadata"]["uid"]
    for rev, image in ((1, "web:1.0"), (2, "web:2.0")):
        tmpl = _pod_template(image, "256Mi")
        tmpl["metadata"]["labels"]["pod-template-hash"] = f"h{rev}"
        fake.add("replicasets", {"metadata": {"name": f"web-h{rev}", "namespace": NS, "labels": {"app": "web"},
                                              "annotations": {"deployment.kubernetes.io/revision": str(rev)},
                                              "ownerReferences": [{"kind": "Deployment", "name": "web", "uid": uid}]},
                                 "spec": {"replicas": 0 if rev == 1 else 2, "template": tmpl}})
    fake.add("pods", {"metadata": {"name": POD, "namespace": NS, "labels": {"app": "web"}},
                      "spec": {"nodeName": "node-1", "containers": [{"name": "app", "image": "web:2.0"}]},
                      "status": {"phase": "Running", "podIP": "10.0.0.7", "containerStatuses": [{
                          "name": "app", "ready": False, "restartCount": 7,
                          "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                          "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}}]}})
    fake.add("pods", {"metadata": {"name": "web-ok-1", "namespace": NS, "labels": {"app": "web"}},
                      "spec": {"containers": [{"name": "app", "image": "web:2.0"}]},
                      "status": {"phase": "Running", "containerStatuses": [{"name": "app", "ready": True,
                                                                            "restartCount": 0, "state": {"running": {}}}]}})
    fake.logs[(NS, POD, "app", True)] = "booting\nconnecting to db password=hunter2\nout of memory: killed"
    fake.logs[(NS, POD, None, True)] = "booting\nout of memory: killed"
    fake.logs[(NS, POD, None, False)] = "booting"
    fake.add("events", {"metadata": {"name": "ev1", "namespace": NS}, "type": "Warning", "reason": "BackOff",
                        "message": "Back-off restarting failed container", "count": 12,
                        "lastTimestamp": "2026-01-01T00:05:00Z",
                        "involvedObject": {"kind": "Pod", "name": POD, "namespace": NS}})
    fake.add("configmaps", {"metadata": {"name": "app-config", "namespace": NS},
                            "data": {"DATABASE_URL": "postgres://app:s3cret@db:5432/app"}})
    fake.add("secrets", {"metadata": {"name": "db-creds", "namespace": NS}, "data": {"password": "aHVudGVyMg=="}})
    fake.add("nodes", {"metadata": {"name": "node-1"}, "spec": {},
                       "status": {"conditions": [{"type": "Ready", "status": "True"},
                                                 {"type": "MemoryPressure", "status": "False"}]}})
    fake.add("statefulsets", {"metadata": {"name": "db", "namespace": NS},
                              "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "db"}},
                                       "template": {"metadata": {"labels": {"app": "db"}},
                                                    "spec": {"containers": [{"name": "db", "image": "pg:16"}]}}},
                              "status": {"replicas": 1, "updatedReplicas": 1, "availableReplicas": 1, "observedGeneration": 1}})
    fake.add("horizontalpodautoscalers", {"metadata": {"name": "web", "namespace": NS},
                                          "spec": {"minReplicas": 2, "maxReplicas": 4, "scaleTargetRef": {"name": "web"}},
                                          "status": {"currentReplicas": 4}})
    fake.add("metrics-pods", {"metadata": {"name": POD, "namespace": NS},
                              "containers": [{"name": "app", "usage": {"cpu": "250m", "memory": "200Mi"}}]})
    fake.add("namespaces", {"metadata": {"name": NS}})
    fake.add("namespaces", {"metadata": {"name": "kube-system"}})
    return fake


@pytest.fixture
def kube():
    fake = seed(FakeKube()).start()
    yield fake
    fake.stop()


@pytest.fixture
def exec_library(tmp_path) -> Path:
    """The shipped library plus the sampler fixture, copied so tests may edit runbooks."""
    root = tmp_path / "library"
    if SHIPPED.is_dir():
        shutil.copytree(SHIPPED, root)
    shutil.copytree(HERE / "fixtures" / "library", root, dirs_exist_ok=True)
    return root


@pytest.fixture
def exec_settings(tmp_path, exec_library) -> Settings:
    return Settings(library_dir=exec_library, data_dir=tmp_path / "data", kubeconfig=None, embedding_model="hash:256")


@pytest.fixture
def runbook_service(exec_settings) -> RunbookService:
    return RunbookService(exec_settings)


@pytest.fixture
def make_executor(exec_settings, runbook_service, kube):
    made = []

    def make(policy: Policy | None = None, host: str | None = None) -> ExecutionService:
        svc = ExecutionService(exec_settings, runbook_service, policy=policy,
                               kube_configuration=k8s.Configuration(host=host or kube.url))
        made.append(svc)
        return svc

    yield make
    for svc in made:
        svc.close()


@pytest.fixture
def executor(make_executor) -> ExecutionService:
    return make_executor()
