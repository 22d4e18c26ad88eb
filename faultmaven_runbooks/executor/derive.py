"""Context the cluster can tell: from a pod, its workload (ownerReferences: ReplicaSet ->
Deployment, StatefulSet, DaemonSet, Job) and node; from a workload, its pods.

Only values the plan is missing are looked up, with reads the policy allows. A value that
cannot be found stays missing, and the step that needs it says so; nothing is invented.
"""

from __future__ import annotations

from .apiresult import KubeError
from .kube import KubeGateway
from .policy import Policy

DERIVABLE = {"deployment", "statefulset", "daemonset", "replicaset", "job_name", "pod_name", "container",
             "label_selector", "node_name"}
WORKLOAD_KEYS = {"deployments": "deployment", "statefulsets": "statefulset", "daemonsets": "daemonset"}
_OWNER_KINDS = {"ReplicaSet": "replicasets", "Deployment": "deployments", "StatefulSet": "statefulsets",
                "DaemonSet": "daemonsets", "Job": "jobs"}
_HASH_LABELS = ("pod-template-hash", "controller-revision-hash", "pod-template-generation")


def _controller(obj: dict) -> dict | None:
    refs = (obj.get("metadata") or {}).get("ownerReferences") or []
    return next((r for r in refs if r.get("controller")), refs[0] if refs else None)


def _selector(labels: dict) -> str | None:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()) if k not in _HASH_LABELS) or None


def _worst(pods: list[dict]) -> dict:
    """The pod most worth diagnosing: not ready first, then the most restarts."""
    def score(pod):
        statuses = (pod.get("status") or {}).get("containerStatuses") or []
        return (all(c.get("ready") for c in statuses) and bool(statuses),
                -sum(int(c.get("restartCount", 0)) for c in statuses), (pod.get("metadata") or {}).get("name", ""))
    return min(pods, key=score)


class Deriver:
    def __init__(self, gateway: KubeGateway, policy: Policy, namespace: str | None):
        self.gateway = gateway
        self.policy = policy
        self.namespace = namespace
        self.values: dict[str, str] = {}
        self.sources: dict[str, str] = {}
        self.problems: list[str] = []

    def _set(self, key: str, value: str | None, source: str, given: dict) -> None:
        if value and key not in given and key not in self.values:
            self.values[key] = value
            self.sources[key] = source

    def derive(self, given: dict, missing: set[str]) -> None:
        wanted = missing & DERIVABLE
        ns = self.namespace
        if not wanted or not ns or not self.policy.namespace_allowed(ns):
            return
        pod_name = given.get("pod_name")
        try:
            if not pod_name:
                pod_name = self._pod_from_workload(given)
            if pod_name:
                self._from_pod(pod_name, given)
        except KubeError as exc:
            self.problems.append(f"could not derive {', '.join(sorted(wanted))}: {exc}")

    def _pod_from_workload(self, given: dict) -> str | None:
        for kind, key in WORKLOAD_KEYS.items():
            name = given.get(key)
            if not isinstance(name, str) or not name:
                continue
            live = self.gateway.read(kind, name, self.namespace)
            labels = ((live.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
            selector = _selector(labels)
            self._set("label_selector", selector, f"selector of {kind[:-1]} {name}", given)
            pods = self.gateway.read_list("pods", self.namespace, selector) if selector else []
            if pods:
                pod = _worst(pods)["metadata"]["name"]
                self._set("pod_name", pod, f"a pod of {kind[:-1]} {name} (not ready or most restarts first)", given)
                return pod
        return None

    def _from_pod(self, pod_name: str, given: dict) -> None:
        pod = self.gateway.read("pods", pod_name, self.namespace)
        spec, status = pod.get("spec") or {}, pod.get("status") or {}
        self._set("node_name", spec.get("nodeName"), f"node of pod {pod_name}", given)
        containers = [c.get("name") for c in spec.get("containers") or []]
        if len(containers) == 1:
            self._set("container", containers[0], f"the only container of pod {pod_name}", given)
        elif containers:
            worst = _worst([{"metadata": {"name": c.get("name")}, "status": {"containerStatuses": [c]}}
                            for c in status.get("containerStatuses") or []] or [{"metadata": {"name": containers[0]}}])
            self._set("container", worst["metadata"]["name"], f"the least healthy container of pod {pod_name}", given)
        self._set("label_selector", _selector((pod.get("metadata") or {}).get("labels") or {}),
                  f"labels of pod {pod_name}", given)
        owner, via = _controller(pod), f"pod {pod_name}"
        for _ in range(2):  # pod -> ReplicaSet -> Deployment at most
            if owner is None:
                return
            kind = _OWNER_KINDS.get(owner.get("kind", ""))
            if kind is None:
                return
            name = owner["name"]
            key = {"replicasets": "replicaset", "jobs": "job_name"}.get(kind) or WORKLOAD_KEYS[kind]
            self._set(key, name, f"owner of {via} (ownerReferences)", given)
            if kind != "replicasets":
                return
            owner, via = _controller(self.gateway.read(kind, name, self.namespace)), f"replicaset {name}"
