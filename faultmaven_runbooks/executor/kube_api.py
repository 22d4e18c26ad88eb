"""The only module that calls the `kubernetes` client: raw typed calls, reads by kind, and the
objects a read operation covers (custom kinds through discovery, every-namespace reads filtered).

Responses are read as raw JSON (`_preload_content=False`) so a partial object from a real
cluster never fails model validation; every call carries the policy's timeout.
"""

from __future__ import annotations

import json
from typing import Any

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from ..clock import Clock, utc_now
from .apiresult import KubeError, api_message
from .custom import CustomResources
from .discovery import Discovery, NotServed, Resource
from .operation import Operation
from .policy import Policy
from .vocabulary import KINDS

_API = {"deployments": "apps", "statefulsets": "apps", "daemonsets": "apps", "replicasets": "apps",
        "jobs": "batch", "cronjobs": "batch", "horizontalpodautoscalers": "autoscaling",
        "ingresses": "networking", "roles": "rbac", "rolebindings": "rbac", "clusterroles": "rbac",
        "clusterrolebindings": "rbac", "networkpolicies": "networking", "storageclasses": "storage",
        "endpointslices": "discovery", "poddisruptionbudgets": "policy"}
SINGULAR = {"statefulsets": "stateful_set", "daemonsets": "daemon_set", "replicasets": "replica_set",
            "cronjobs": "cron_job", "persistentvolumeclaims": "persistent_volume_claim",
            "configmaps": "config_map", "horizontalpodautoscalers": "horizontal_pod_autoscaler",
            "resourcequotas": "resource_quota", "serviceaccounts": "service_account", "endpoints": "endpoints",
            "ingresses": "ingress", "rolebindings": "role_binding", "clusterroles": "cluster_role",
            "clusterrolebindings": "cluster_role_binding", "networkpolicies": "network_policy",
            "persistentvolumes": "persistent_volume", "storageclasses": "storage_class",
            "endpointslices": "endpoint_slice", "poddisruptionbudgets": "pod_disruption_budget"}


def singular(kind: str) -> str:
    """The client's word for one object of a kind: `stateful_set` in `read_namespaced_stateful_set`."""
    return SINGULAR.get(kind, kind[:-1])


def named(op: Operation) -> str:
    """The object an operation on one object acts on (the grammar requires a name for those)."""
    if op.name is None:
        raise KubeError(f"{op.verb} {op.kind} names no object", 400)
    return op.name


class KubeApi:
    """One ApiClient for the executor's lifetime, and the calls every operation is made of."""

    def __init__(self, configuration: k8s.Configuration, timeout: float = 20.0, log_tail_max: int = 500,
                 clock: Clock = utc_now, policy: Policy | None = None):
        self.host = configuration.host
        self.clock = clock
        # Reads across every namespace drop what lies outside the allowlist before anything is shown;
        # custom kinds are checked against the policy again once discovery names their API group.
        self.policy = policy
        self.timeout = timeout
        self.log_tail_max = log_tail_max
        self.client = k8s.ApiClient(configuration)
        self.custom = CustomResources(self.client, self.host, timeout)
        self.discovery = Discovery(lambda path: self.custom.json("GET", path))
        self._apis = {"core": k8s.CoreV1Api(self.client), "apps": k8s.AppsV1Api(self.client),
                      "batch": k8s.BatchV1Api(self.client), "autoscaling": k8s.AutoscalingV2Api(self.client),
                      "networking": k8s.NetworkingV1Api(self.client), "rbac": k8s.RbacAuthorizationV1Api(self.client),
                      "custom": k8s.CustomObjectsApi(self.client), "storage": k8s.StorageV1Api(self.client),
                      "discovery": k8s.DiscoveryV1Api(self.client), "policy": k8s.PolicyV1Api(self.client)}

    def close(self) -> None:
        self.client.close()

    # -- raw calls -------------------------------------------------------------------------
    def call(self, api: str, method: str, *args: Any, **kwargs: Any) -> bytes:
        fn = getattr(self._apis[api], method)
        try:
            data: bytes = fn(*args, _preload_content=False, _request_timeout=self.timeout, **kwargs).data
            return data
        except ApiException as exc:
            raise KubeError(api_message(exc), exc.status) from None
        except (HTTPError, OSError) as exc:
            raise KubeError(f"cannot reach the Kubernetes API at {self.host} ({type(exc).__name__})") from None

    def json(self, api: str, method: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        answer: dict[str, Any] = json.loads(self.call(api, method, *args, **kwargs) or b"{}")
        return answer

    def method(self, verb: str, kind: str, namespace: str | None) -> tuple[str, str, tuple[str | None, ...]]:
        """(api, client method, namespace argument if the kind is namespaced) for a verb on a kind."""
        scoped = "namespaced_" if KINDS[kind][1] else ""
        args = (namespace,) if scoped else ()
        return _API.get(kind, "core"), f"{verb}_{scoped}{singular(kind)}", args

    # -- objects by kind -------------------------------------------------------------------
    def read(self, kind: str, name: str, namespace: str | None) -> dict[str, Any]:
        api, method, args = self.method("read", kind, namespace)
        return self.json(api, method, name, *args)

    def read_list(self, kind: str, namespace: str | None, selector: str | None = None,
                  field_selector: str | None = None) -> list[dict[str, Any]]:
        api, method, args = self.method("list", kind, namespace)
        kwargs = {k: v for k, v in (("label_selector", selector), ("field_selector", field_selector)) if v}
        items: list[dict[str, Any]] = self.json(api, method, *args, **kwargs).get("items") or []
        return items

    def read_all_namespaces(self, kind: str, selector: str | None, field_selector: str | None) -> list[dict[str, Any]]:
        api, _, _ = self.method("list", kind, None)
        kwargs = {k: v for k, v in (("label_selector", selector), ("field_selector", field_selector)) if v}
        items: list[dict[str, Any]] = self.json(api, f"list_{singular(kind)}_for_all_namespaces", **kwargs).get(
            "items") or []
        return items

    def patch(self, kind: str, name: str, namespace: str | None, body: object, content_type: str,
              dry_run: bool) -> dict[str, Any]:
        api, method, args = self.method("patch", kind, namespace)
        return self.json(api, method, name, *args, body, dry_run="All" if dry_run else None, _content_type=content_type)

    # -- what a read covers ----------------------------------------------------------------
    def resolve(self, op: Operation) -> Resource:
        """The resource discovery names for a custom kind, checked against the policy again."""
        try:
            resource = self.discovery.resolve(op.kind, op.group)
        except NotServed as exc:
            raise KubeError(str(exc), 404) from None
        if self.policy is not None:
            self.policy.check(Operation(op.verb, resource.plural, op.name, op.namespace, op.options,
                                        resource.group if resource.group else None))
        return resource

    def visible(self, item: dict[str, Any]) -> bool:
        ns = (item.get("metadata") or {}).get("namespace")
        return ns is None or self.policy is None or self.policy.namespace_allowed(ns)

    def items(self, op: Operation, resource: Resource | None, limit: int | None = None) -> list[dict[str, Any]]:
        o = op.options
        items: list[dict[str, Any]]
        if resource is not None:
            if op.name:
                items = [self.custom.json("GET", resource.path(op.namespace, op.name))]
            else:
                query = [(k, v) for k, v in (("labelSelector", o.get("selector")),
                                             ("fieldSelector", o.get("field_selector"))) if v]
                where = None if op.all_namespaces else op.namespace
                items = self.custom.json("GET", resource.path(where), query).get("items") or []
            api_version = f"{resource.group}/{resource.version}" if resource.group else resource.version
            for item in items:  # list items come without them; kubectl fills them in
                item.setdefault("apiVersion", api_version)
                item.setdefault("kind", resource.kind)
        elif op.name:
            items = [self.read(op.kind, op.name, op.namespace)]
        elif op.all_namespaces and KINDS[op.kind][1]:
            items = self.read_all_namespaces(op.kind, o.get("selector"), o.get("field_selector"))
        else:
            items = self.read_list(op.kind, op.namespace, o.get("selector"), o.get("field_selector"))
        # every namespace at once: what lies outside the namespace allowlist is never shown
        items = [i for i in items if self.visible(i)] if op.all_namespaces else items
        return items[:limit] if limit else items
