"""The only module that calls the `kubernetes` client: typed operations, dryRun=All, diffs.

Responses are read as raw JSON (`_preload_content=False`) so a partial object from a real
cluster never fails model validation; every call carries the policy's timeout.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from ..clock import Clock, utc_now
from . import changes, summaries
from .grammar import KINDS
from .operation import Operation
from .redact import clean_object, object_diff, to_json, to_yaml

_API = {"deployments": "apps", "statefulsets": "apps", "daemonsets": "apps", "replicasets": "apps",
        "jobs": "batch", "cronjobs": "batch", "horizontalpodautoscalers": "autoscaling",
        "ingresses": "networking", "roles": "rbac", "rolebindings": "rbac", "clusterroles": "rbac",
        "clusterrolebindings": "rbac", "networkpolicies": "networking", "storageclasses": "storage",
        "endpointslices": "discovery", "poddisruptionbudgets": "policy"}
_SINGULAR = {"statefulsets": "stateful_set", "daemonsets": "daemon_set", "replicasets": "replica_set",
             "cronjobs": "cron_job", "persistentvolumeclaims": "persistent_volume_claim",
             "configmaps": "config_map", "horizontalpodautoscalers": "horizontal_pod_autoscaler",
             "resourcequotas": "resource_quota", "serviceaccounts": "service_account", "endpoints": "endpoints",
             "ingresses": "ingress", "rolebindings": "role_binding", "clusterroles": "cluster_role",
             "clusterrolebindings": "cluster_role_binding", "networkpolicies": "network_policy",
             "persistentvolumes": "persistent_volume", "storageclasses": "storage_class",
             "endpointslices": "endpoint_slice", "poddisruptionbudgets": "pod_disruption_budget"}


class KubeError(Exception):
    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


@dataclass
class Outcome:
    output: str
    diff: str | None = None
    objects: list[tuple[str, dict]] = field(default_factory=list)  # (kind, object) for analysis
    ok: bool = True


def _api_message(exc: ApiException) -> str:
    try:
        message = json.loads(exc.body or "{}").get("message") or exc.reason
    except ValueError:
        message = exc.reason
    if exc.status == 403:
        return f"forbidden by the cluster's RBAC (403): {message}"
    if exc.status == 404:
        return f"not found (404): {message}"
    return f"the API answered {exc.status}: {message}"


def _seconds(text: str) -> int | None:
    m = re.fullmatch(r"(\d+)([smhd]?)", text or "")
    return int(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)] if m else None


def _quantity(text: str) -> float:
    m = re.fullmatch(r"([0-9.]+)([a-zA-Z]*)", str(text or "0"))
    if not m:
        return 0.0
    scale = {"n": 1e-9, "u": 1e-6, "m": 1e-3, "": 1, "k": 1e3, "M": 1e6, "G": 1e9, "Ki": 1024, "Mi": 1024**2, "Gi": 1024**3}
    return float(m.group(1)) * scale.get(m.group(2), 1)


def _path(obj: dict, path: str):
    for key in path.strip("{}").lstrip(".").split("."):
        obj = obj.get(key) if isinstance(obj, dict) else None
    return obj


class KubeGateway:
    """One ApiClient for the executor's lifetime; each method is one typed API operation."""

    def __init__(self, configuration: k8s.Configuration, timeout: float = 20.0, log_tail_max: int = 500,
                 clock: Clock = utc_now):
        self.host = configuration.host
        self.clock = clock
        self.timeout = timeout
        self.log_tail_max = log_tail_max
        self.client = k8s.ApiClient(configuration)
        self._apis = {"core": k8s.CoreV1Api(self.client), "apps": k8s.AppsV1Api(self.client),
                      "batch": k8s.BatchV1Api(self.client), "autoscaling": k8s.AutoscalingV2Api(self.client),
                      "networking": k8s.NetworkingV1Api(self.client), "rbac": k8s.RbacAuthorizationV1Api(self.client),
                      "custom": k8s.CustomObjectsApi(self.client), "storage": k8s.StorageV1Api(self.client),
                      "discovery": k8s.DiscoveryV1Api(self.client), "policy": k8s.PolicyV1Api(self.client)}

    def close(self) -> None:
        self.client.close()

    # -- raw calls -------------------------------------------------------------------------
    def _call(self, api: str, method: str, *args, **kwargs) -> bytes:
        fn = getattr(self._apis[api], method)
        try:
            return fn(*args, _preload_content=False, _request_timeout=self.timeout, **kwargs).data
        except ApiException as exc:
            raise KubeError(_api_message(exc), exc.status) from None
        except (HTTPError, OSError) as exc:
            raise KubeError(f"cannot reach the Kubernetes API at {self.host} ({type(exc).__name__})") from None

    def _json(self, api: str, method: str, *args, **kwargs) -> dict:
        return json.loads(self._call(api, method, *args, **kwargs) or b"{}")

    def _method(self, verb: str, kind: str, namespace: str | None) -> tuple[str, str, tuple]:
        scoped = "namespaced_" if KINDS[kind][1] else ""
        singular = _SINGULAR.get(kind, kind[:-1])
        args = (namespace,) if scoped else ()
        return _API.get(kind, "core"), f"{verb}_{scoped}{singular}", args

    def read(self, kind: str, name: str, namespace: str | None) -> dict:
        api, method, args = self._method("read", kind, namespace)
        return self._json(api, method, name, *args)

    def list(self, kind: str, namespace: str | None, selector: str | None = None, field_selector: str | None = None) -> list[dict]:
        api, method, args = self._method("list", kind, namespace)
        kwargs = {k: v for k, v in (("label_selector", selector), ("field_selector", field_selector)) if v}
        return self._json(api, method, *args, **kwargs).get("items") or []

    def patch(self, kind: str, name: str, namespace: str | None, body, content_type: str, dry_run: bool) -> dict:
        api, method, args = self._method("patch", kind, namespace)
        return self._json(api, method, name, *args, body, dry_run="All" if dry_run else None, _content_type=content_type)

    # -- operations ------------------------------------------------------------------------
    def run(self, op: Operation, apply: bool = False) -> Outcome:
        """Run a read, or dry-run a change on the server (and apply it when `apply`)."""
        if op.change:
            return self._change(op, apply and not op.options.get("dry_run_only"))
        return getattr(self, "_" + op.verb.replace("-", "_"))(op)

    def _get(self, op: Operation) -> Outcome:
        o = op.options
        if op.name:
            items = [self.read(op.kind, op.name, op.namespace)]
        else:
            items = self.list(op.kind, op.namespace, o.get("selector"), o.get("field_selector"))
            if o.get("sort_by"):
                items.sort(key=lambda i: str(_path(i, o["sort_by"]) or ""))
        objects = [(op.kind, i) for i in items]
        if o.get("output") in ("yaml", "json"):
            shown = clean_object(items[0] if op.name else {"kind": "List", "items": items}, op.kind)
            return Outcome(to_yaml(shown) if o["output"] == "yaml" else to_json(shown), objects=objects)
        return Outcome(summaries.table(op.kind, items, o.get("output") == "wide", o.get("output") == "name"), objects=objects)

    def _describe(self, op: Operation) -> Outcome:
        items = [self.read(op.kind, op.name, op.namespace)] if op.name else \
            self.list(op.kind, op.namespace, op.options.get("selector"))[:20]
        parts, objects = [], []
        for item in items:
            name = (item.get("metadata") or {}).get("name", "")
            events = self.list("events", op.namespace or "default", field_selector=f"involvedObject.name={name}")
            parts.append(summaries.describe(op.kind, item, events))
            objects += [(op.kind, item)] + [("events", e) for e in events]
        return Outcome("\n\n".join(parts) or f"No {op.kind} found.", objects=objects)

    def _logs(self, op: Operation) -> Outcome:
        pod = op.name
        if op.kind != "pods":  # logs job/x, deployment/x: the newest pod they own
            live = self.read(op.kind, op.name, op.namespace)
            labels = ((live.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
            pods = self.list("pods", op.namespace, ",".join(f"{k}={v}" for k, v in labels.items()) or None)
            if not pods:
                raise KubeError(f"{op.kind[:-1]} {op.name} has no pods")
            pod = max(pods, key=lambda p: (p.get("metadata") or {}).get("creationTimestamp", ""))["metadata"]["name"]
        o = op.options
        kwargs = {"tail_lines": min(o.get("tail") or self.log_tail_max, self.log_tail_max),
                  "previous": bool(o.get("previous")), "timestamps": bool(o.get("timestamps"))}
        if o.get("container"):
            kwargs["container"] = o["container"]
        if o.get("since") and _seconds(o["since"]):
            kwargs["since_seconds"] = _seconds(o["since"])
        text = self._call("core", "read_namespaced_pod_log", pod, op.namespace, **kwargs).decode("utf-8", "replace")
        log = {"pod": pod, "container": o.get("container"), "previous": bool(o.get("previous")), "text": text}
        return Outcome(text or "(no log lines)", objects=[("log", log)])

    def _top(self, op: Operation) -> Outcome:
        plural = op.kind
        try:
            if op.kind == "nodes":
                raw = [self._json("custom", "get_cluster_custom_object", "metrics.k8s.io", "v1beta1", plural, op.name)] if op.name \
                    else self._json("custom", "list_cluster_custom_object", "metrics.k8s.io", "v1beta1", plural).get("items", [])
            else:
                raw = [self._json("custom", "get_namespaced_custom_object", "metrics.k8s.io", "v1beta1", op.namespace, plural, op.name)] \
                    if op.name else self._json("custom", "list_namespaced_custom_object", "metrics.k8s.io", "v1beta1",
                                               op.namespace, plural, **({"label_selector": op.options["selector"]} if op.options.get("selector") else {})).get("items", [])
        except KubeError as exc:
            if exc.status == 404 and not op.name:
                raise KubeError("the metrics API (metrics.k8s.io) is not available: is metrics-server installed?", 404) from None
            raise
        rows = []
        for item in raw:
            name = (item.get("metadata") or {}).get("name", "")
            usages = [(c.get("name"), c.get("usage") or {}) for c in item.get("containers", [])] if plural == "pods" \
                else [(None, item.get("usage") or {})]
            if op.options.get("containers"):
                rows += [(f"{name}/{c}", u.get("cpu", "0"), u.get("memory", "0")) for c, u in usages]
            else:
                cpu = sum(_quantity(u.get("cpu")) for _, u in usages)
                mem = sum(_quantity(u.get("memory")) for _, u in usages)
                rows.append((name, f"{round(cpu * 1000)}m", f"{round(mem / 1024**2)}Mi"))
        if op.options.get("sort_by") in ("cpu", "memory"):
            idx = 1 if op.options["sort_by"] == "cpu" else 2
            rows.sort(key=lambda r: _quantity(r[idx]), reverse=True)
        text = "\n".join(f"{a:<40} {b:<8} {c}" for a, b, c in [("NAME", "CPU", "MEMORY"), *rows])
        return Outcome(text, objects=self._usage_against_limits(op, raw) if plural == "pods" else [])

    def _usage_against_limits(self, op: Operation, metrics: list[dict]) -> list[tuple[str, dict]]:
        """Each container's usage next to its limits (read from the pods), for the findings."""
        pods = [self.read("pods", op.name, op.namespace)] if op.name else \
            self.list("pods", op.namespace, op.options.get("selector"))
        limits = {((p.get("metadata") or {}).get("name"), c.get("name")): (c.get("resources") or {}).get("limits") or {}
                  for p in pods for c in (p.get("spec") or {}).get("containers") or []}
        out = []
        for item in metrics:
            pod = (item.get("metadata") or {}).get("name")
            for c in item.get("containers", []):
                lim, use = limits.get((pod, c.get("name")), {}), c.get("usage") or {}
                row = {"pod": pod, "container": c.get("name")}
                for res in ("memory", "cpu"):
                    if lim.get(res) and use.get(res):
                        row.update({f"{res}_used": _quantity(use[res]), f"{res}_limit": _quantity(lim[res]),
                                    f"{res}_shown": f"{use[res]} of {lim[res]}"})
                out.append(("usage", row))
        return out

    def _rollout_status(self, op: Operation) -> Outcome:
        live = self.read(op.kind, op.name, op.namespace)
        done, text = summaries.rollout_status(op.kind, live)
        return Outcome(text, objects=[("rollout", {"name": f"{op.kind[:-1]}/{op.name}", "done": done, "text": text})])

    def _owned_history(self, op: Operation, live: dict) -> list[dict]:
        labels = ((live.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        selector = ",".join(f"{k}={v}" for k, v in labels.items()) or None
        if op.kind == "deployments":
            return self.list("replicasets", op.namespace, selector)
        return self._json("apps", "list_namespaced_controller_revision", op.namespace,
                          **({"label_selector": selector} if selector else {})).get("items") or []

    def _rollout_history(self, op: Operation) -> Outcome:
        live = self.read(op.kind, op.name, op.namespace)
        owned = self._owned_history(op, live)
        history = {"kind": op.kind[:-1], "name": op.name, "revisions": changes.revisions(op.kind, owned, live)}
        return Outcome(changes.history(op.kind, owned, live), objects=[("history", history)])

    # -- changes ---------------------------------------------------------------------------
    def _change(self, op: Operation, apply: bool) -> Outcome:
        live = self.read(op.kind, op.name, op.namespace)  # pre-check: the target exists and we may read it
        label = f"{op.kind[:-1]}/{op.name}"
        try:
            if op.verb == "delete":
                return self._delete(op, apply, label)
            if op.verb == "scale":
                return self._scale(op, apply, label)
            body, ctype = self._body(op, live)
        except changes.ChangeError as exc:
            raise KubeError(str(exc)) from None
        after = self.patch(op.kind, op.name, op.namespace, body, ctype, dry_run=True)
        diff = object_diff(live, after, label)
        if not apply:
            return Outcome(f"server dry run (dryRun=All) accepted: {op.describe()}", diff, [(op.kind, after)])
        applied = self.patch(op.kind, op.name, op.namespace, body, ctype, dry_run=False)
        return Outcome(f"applied: {op.describe()}", diff, [(op.kind, applied)])

    def _body(self, op: Operation, live: dict):
        v = op.verb
        if v == "rollout-restart":
            return changes.restart_patch(self.clock())
        if v in ("rollout-pause", "rollout-resume"):
            if op.kind != "deployments":
                raise changes.ChangeError(f"{op.kind} cannot be paused; only deployments can")
            return changes.pause_patch(v == "rollout-pause")
        if v in ("cordon", "uncordon"):
            return changes.cordon_patch(v == "cordon")
        if v == "set-resources":
            return changes.resources_patch(op, live)
        if v in ("label", "annotate"):
            return changes.label_patch(op, live)
        if v == "patch":
            return changes.user_patch(op)
        if v == "rollout-undo":
            history = self._owned_history(op, live)
            if op.kind == "deployments":
                body, ctype, _ = changes.undo_deployment_patch(op, history, live)
            else:
                body, ctype, _ = changes.undo_revision_patch(op, history, live)
            return body, ctype
        raise changes.ChangeError(f"{v} is not implemented")

    def _delete(self, op: Operation, apply: bool, label: str) -> Outcome:
        api, method, args = self._method("delete", op.kind, op.namespace)
        kwargs = {"grace_period_seconds": op.options["grace_period"]} if "grace_period" in op.options else {}
        if op.kind != "pods":
            kwargs["propagation_policy"] = "Background"
        self._call(api, method, op.name, *args, dry_run="All", **kwargs)
        diff = f"--- {label} (live)\n+++ {label} (after change)\n- {label} in {op.namespace} (deleted; its controller recreates it)"
        if not apply:
            return Outcome(f"server dry run (dryRun=All) accepted: {op.describe()}", diff)
        self._call(api, method, op.name, *args, **kwargs)
        return Outcome(f"applied: {op.describe()}", diff)

    def _scale(self, op: Operation, apply: bool, label: str) -> Outcome:
        singular = _SINGULAR.get(op.kind, op.kind[:-1])
        current = self._json("apps", f"read_namespaced_{singular}_scale", op.name, op.namespace)
        before = (current.get("spec") or {}).get("replicas")
        want = op.options.get("current_replicas")
        if want is not None and want != before:
            raise KubeError(f"--current-replicas={want} but {label} has {before}; nothing changed")
        body = {"spec": {"replicas": op.options["replicas"]}}
        method = f"patch_namespaced_{singular}_scale"
        after = self._json("apps", method, op.name, op.namespace, body, dry_run="All", _content_type=changes.MERGE)
        diff = (f"--- {label} (live)\n+++ {label} (after change)\n- replicas: {before}\n"
                f"+ replicas: {(after.get('spec') or {}).get('replicas')}")
        if not apply:
            return Outcome(f"server dry run (dryRun=All) accepted: {op.describe()}", diff)
        self._json("apps", method, op.name, op.namespace, body, _content_type=changes.MERGE)
        return Outcome(f"applied: {op.describe()}", diff)
