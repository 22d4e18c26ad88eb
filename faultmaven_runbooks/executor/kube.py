"""The only module that calls the `kubernetes` client: typed operations, dryRun=All, diffs.

Responses are read as raw JSON (`_preload_content=False`) so a partial object from a real
cluster never fails model validation; every call carries the policy's timeout.
"""

from __future__ import annotations

import json
import re

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from ..clock import Clock, utc_now
from . import changes, filters, printing, summaries
from .apiresult import KubeError, Outcome, api_message
from .custom import CustomResources
from .discovery import Discovery, NotServed, Resource
from .operation import FilterError, Operation
from .redact import object_diff
from .vocabulary import BUILTIN_GROUPS, KINDS, kind_name

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


MAX_LOG_PODS = 10


def _seconds(text: str) -> int | None:
    m = re.fullmatch(r"(\d+)([smhd]?)", text or "")
    return int(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)] if m else None


def _quantity(text: str) -> float:
    m = re.fullmatch(r"([0-9.]+)([a-zA-Z]*)", str(text or "0"))
    if not m:
        return 0.0
    scale = {"n": 1e-9, "u": 1e-6, "m": 1e-3, "": 1, "k": 1e3, "M": 1e6, "G": 1e9, "Ki": 1024, "Mi": 1024**2, "Gi": 1024**3}
    return float(m.group(1)) * scale.get(m.group(2), 1)


class KubeGateway:
    """One ApiClient for the executor's lifetime; each method is one typed API operation."""

    def __init__(self, configuration: k8s.Configuration, timeout: float = 20.0, log_tail_max: int = 500,
                 clock: Clock = utc_now, policy=None):
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
    def _call(self, api: str, method: str, *args, **kwargs) -> bytes:
        fn = getattr(self._apis[api], method)
        try:
            return fn(*args, _preload_content=False, _request_timeout=self.timeout, **kwargs).data
        except ApiException as exc:
            raise KubeError(api_message(exc), exc.status) from None
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
        """Run a read, or dry-run a change on the server (and apply it when `apply`); a read's
        filters (grep, jq, ...) apply to its text in-process."""
        resource = self._resolve(op) if op.custom else None
        if resource is not None:
            op = Operation(op.verb, resource.plural, op.name, op.namespace if resource.namespaced else None,
                           op.options, resource.group)
        if op.change:
            return self._change(op, apply and not op.options.get("dry_run_only"), resource)
        stage = f"-o {op.options['output']}" if op.options.get("output") else op.verb
        try:
            out = getattr(self, "_" + op.verb.replace("-", "_"))(op, resource)
            for spec in op.options.get("filters", []):
                stage = spec.get("shown", spec["filter"])
                out.output = filters.apply(spec, out.output)
        except FilterError as exc:  # a template or filter that fails on this output, as kubectl or grep would
            raise KubeError(f"{stage[:80]}: {exc}", 400) from None
        if not out.output and not op.options.get("filters") and op.verb == "get" and not op.name:
            out.output = "No resources found" + (f" in {op.namespace} namespace." if op.namespace else ".")
        return out

    def _resolve(self, op: Operation) -> Resource:
        try:
            resource = self.discovery.resolve(op.kind, op.group)
        except NotServed as exc:
            raise KubeError(str(exc), 404) from None
        if self.policy is not None:
            self.policy.check(Operation(op.verb, resource.plural, op.name, op.namespace, op.options,
                                        resource.group if resource.group else None))
        return resource

    def _visible(self, item: dict) -> bool:
        ns = (item.get("metadata") or {}).get("namespace")
        return ns is None or self.policy is None or self.policy.namespace_allowed(ns)

    def _items(self, op: Operation, resource: Resource | None, limit: int | None = None) -> list[dict]:
        o = op.options
        if resource is not None:
            if op.name:
                items = [self.custom.json("GET", resource.path(op.namespace, op.name))]
            else:
                query = [(k, v) for k, v in (("labelSelector", o.get("selector")), ("fieldSelector", o.get("field_selector"))) if v]
                items = self.custom.json("GET", resource.path(None if op.all_namespaces else op.namespace), query).get("items") or []
            api_version = f"{resource.group}/{resource.version}" if resource.group else resource.version
            for item in items:  # list items come without them; kubectl fills them in
                item.setdefault("apiVersion", api_version)
                item.setdefault("kind", resource.kind)
        elif op.name:
            items = [self.read(op.kind, op.name, op.namespace)]
        elif op.all_namespaces and KINDS[op.kind][1]:
            items = self._list_all(op.kind, o.get("selector"), o.get("field_selector"))
        else:
            items = self.list(op.kind, op.namespace, o.get("selector"), o.get("field_selector"))
        # every namespace at once: what lies outside the namespace allowlist is never shown
        items = [i for i in items if self._visible(i)] if op.all_namespaces else items
        return items[:limit] if limit else items

    def _list_all(self, kind: str, selector: str | None, field_selector: str | None) -> list[dict]:
        api, method, _ = self._method("list", kind, None)
        singular = _SINGULAR.get(kind, kind[:-1])
        kwargs = {k: v for k, v in (("label_selector", selector), ("field_selector", field_selector)) if v}
        return self._json(api, f"list_{singular}_for_all_namespaces", **kwargs).get("items") or []

    def _get(self, op: Operation, resource: Resource | None = None) -> Outcome:
        o = op.options
        items = self._items(op, resource)
        kind = resource.kind if resource else kind_name(op.kind)
        group = resource.group if resource else BUILTIN_GROUPS.get(op.kind, "")
        text = printing.render(
            items, single=bool(op.name), output=o.get("output"), kind=kind, group=group,
            table=lambda rows, wide, no_headers: summaries.table(op.kind, rows, wide, no_headers, op.all_namespaces),
            no_headers=bool(o.get("no_headers")), sort_by=o.get("sort_by"))
        return Outcome(text, objects=[(op.kind, i) for i in items])

    def _describe(self, op: Operation, resource: Resource | None = None) -> Outcome:
        items = self._items(op, resource, limit=20)
        parts, objects = [], []
        for item in items:
            meta = item.get("metadata") or {}
            events = self.list("events", meta.get("namespace") or op.namespace or "default",
                               field_selector=f"involvedObject.name={meta.get('name', '')}")
            parts.append(summaries.describe(op.kind, item, events))
            objects += [(op.kind, item)] + [("events", e) for e in events]
        return Outcome("\n\n".join(parts) or f"No {op.kind} found.", objects=objects)

    def _logs(self, op: Operation, resource: Resource | None = None) -> Outcome:
        o = op.options
        if op.name is None:  # logs -l SELECTOR: each matching pod's last lines (10 each, as kubectl does)
            pods = self.list("pods", op.namespace, o.get("selector"))[:MAX_LOG_PODS]
            if not pods:
                return Outcome(f"No resources found in {op.namespace} namespace.")
            texts, objects = [], []
            for pod in pods:
                out = self._pod_log(pod["metadata"]["name"], op, default_tail=10)
                texts.append(out.output if out.output != "(no log lines)" else "")
                objects += out.objects
            return Outcome("".join(texts) or "(no log lines)", objects=objects)
        pod = op.name
        if op.kind != "pods":  # logs job/x, deployment/x: the newest pod they own
            live = self.read(op.kind, op.name, op.namespace)
            labels = ((live.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
            pods = self.list("pods", op.namespace, ",".join(f"{k}={v}" for k, v in labels.items()) or None)
            if not pods:
                raise KubeError(f"{op.kind[:-1]} {op.name} has no pods")
            pod = max(pods, key=lambda p: (p.get("metadata") or {}).get("creationTimestamp", ""))["metadata"]["name"]
        return self._pod_log(pod, op)

    def _pod_log(self, pod: str, op: Operation, default_tail: int | None = None) -> Outcome:
        o = op.options
        tail = o.get("tail") if o.get("tail") is not None else default_tail
        kwargs = {"tail_lines": min(tail or self.log_tail_max, self.log_tail_max),
                  "previous": bool(o.get("previous")), "timestamps": bool(o.get("timestamps"))}
        if o.get("container"):
            kwargs["container"] = o["container"]
        if o.get("since") and _seconds(o["since"]):
            kwargs["since_seconds"] = _seconds(o["since"])
        text = self._call("core", "read_namespaced_pod_log", pod, op.namespace, **kwargs).decode("utf-8", "replace")
        if text and not text.endswith("\n"):
            text += "\n"  # kubectl prints each log line with its newline
        log = {"pod": pod, "container": o.get("container"), "previous": bool(o.get("previous")), "text": text}
        return Outcome(text or "(no log lines)", objects=[("log", log)])

    def _top(self, op: Operation, resource: Resource | None = None) -> Outcome:
        plural = op.kind
        try:
            if op.kind == "nodes" or (op.all_namespaces and not op.name):
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
        raw = [i for i in raw if self._visible(i)] if op.all_namespaces else raw
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
        if op.name:
            pods = [self.read("pods", op.name, op.namespace)]
        elif op.all_namespaces:
            pods = [p for p in self._list_all("pods", op.options.get("selector"), None) if self._visible(p)]
        else:
            pods = self.list("pods", op.namespace, op.options.get("selector"))
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

    def _rollout_status(self, op: Operation, resource: Resource | None = None) -> Outcome:
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

    def _rollout_history(self, op: Operation, resource: Resource | None = None) -> Outcome:
        live = self.read(op.kind, op.name, op.namespace)
        owned = self._owned_history(op, live)
        history = {"kind": op.kind[:-1], "name": op.name, "revisions": changes.revisions(op.kind, owned, live)}
        return Outcome(changes.history(op.kind, owned, live), objects=[("history", history)])

    # -- changes ---------------------------------------------------------------------------
    def _change(self, op: Operation, apply: bool, resource: Resource | None = None) -> Outcome:
        if resource is not None:
            return self.custom.change(op, apply, resource)
        live = self.read(op.kind, op.name, op.namespace)  # pre-check: the target exists and we may read it
        label = f"{op.kind[:-1]}/{op.name}"
        try:
            if op.verb == "delete":
                return self._delete(op, apply, label)
            if op.verb == "scale":
                return self._scale(op, apply, label)
            body, ctype = self._body(op, live)
        except changes.ChangeError as exc:
            raise KubeError(str(exc), 422) from None
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
