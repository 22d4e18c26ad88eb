"""Read operations as kubectl shows them: get, describe, logs, top, rollout status and history.

Each takes the API (kube_api.py) and the operation, and gives the text kubectl would print
with the objects behind it, for the findings.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from . import changes, printing, summaries
from .apiresult import KubeError, Outcome
from .discovery import Resource
from .kube_api import KubeApi, named
from .operation import Operation
from .vocabulary import BUILTIN_GROUPS, kind_name

MAX_LOG_PODS = 10
_METRICS = ("metrics.k8s.io", "v1beta1")


def _seconds(text: str) -> int | None:
    m = re.fullmatch(r"(\d+)([smhd]?)", text or "")
    return int(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)] if m else None


def quantity(text: object) -> float:
    """A Kubernetes quantity (`250m`, `128Mi`) as a number of cores or bytes; 0 when unreadable."""
    m = re.fullmatch(r"([0-9.]+)([a-zA-Z]*)", str(text or "0"))
    if not m:
        return 0.0
    scale = {"n": 1e-9, "u": 1e-6, "m": 1e-3, "": 1, "k": 1e3, "M": 1e6, "G": 1e9, "Ki": 1024, "Mi": 1024**2,
             "Gi": 1024**3}
    return float(m.group(1)) * scale.get(m.group(2), 1)


def _selector_of(live: dict[str, Any]) -> str | None:
    """A workload's `matchLabels` as a label selector."""
    labels = ((live.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return ",".join(f"{k}={v}" for k, v in labels.items()) or None


def get(api: KubeApi, op: Operation, resource: Resource | None) -> Outcome:
    o = op.options
    items = api.items(op, resource)
    kind = resource.kind if resource else kind_name(op.kind)
    group = resource.group if resource else BUILTIN_GROUPS.get(op.kind, "")
    text = printing.render(
        items, single=bool(op.name), output=o.get("output"), kind=kind, group=group,
        table=lambda rows, wide, no_headers: summaries.table(op.kind, rows, wide, no_headers, op.all_namespaces),
        no_headers=bool(o.get("no_headers")), sort_by=o.get("sort_by"))
    return Outcome(text, objects=[(op.kind, i) for i in items])


def describe(api: KubeApi, op: Operation, resource: Resource | None) -> Outcome:
    items = api.items(op, resource, limit=20)
    parts: list[str] = []
    objects: list[tuple[str, dict[str, Any]]] = []
    for item in items:
        meta = item.get("metadata") or {}
        events = api.read_list("events", meta.get("namespace") or op.namespace or "default",
                               field_selector=f"involvedObject.name={meta.get('name', '')}")
        parts.append(summaries.describe(op.kind, item, events))
        objects += [(op.kind, item)] + [("events", e) for e in events]
    return Outcome("\n\n".join(parts) or f"No {op.kind} found.", objects=objects)


def logs(api: KubeApi, op: Operation, resource: Resource | None) -> Outcome:
    o = op.options
    if op.name is None:  # logs -l SELECTOR: each matching pod's last lines (10 each, as kubectl does)
        pods = api.read_list("pods", op.namespace, o.get("selector"))[:MAX_LOG_PODS]
        if not pods:
            return Outcome(f"No resources found in {op.namespace} namespace.")
        texts: list[str] = []
        objects: list[tuple[str, dict[str, Any]]] = []
        for item in pods:
            out = _pod_log(api, item["metadata"]["name"], op, default_tail=10)
            texts.append(out.output if out.output != "(no log lines)" else "")
            objects += out.objects
        return Outcome("".join(texts) or "(no log lines)", objects=objects)
    pod = op.name
    if op.kind != "pods":  # logs job/x, deployment/x: the newest pod they own
        live = api.read(op.kind, op.name, op.namespace)
        pods = api.read_list("pods", op.namespace, _selector_of(live))
        if not pods:
            raise KubeError(f"{op.kind[:-1]} {op.name} has no pods")
        pod = max(pods, key=lambda p: (p.get("metadata") or {}).get("creationTimestamp", ""))["metadata"]["name"]
    return _pod_log(api, pod, op)


def _pod_log(api: KubeApi, pod: str, op: Operation, default_tail: int | None = None) -> Outcome:
    o = op.options
    tail = o.get("tail") if o.get("tail") is not None else default_tail
    kwargs = {"tail_lines": min(tail or api.log_tail_max, api.log_tail_max),
              "previous": bool(o.get("previous")), "timestamps": bool(o.get("timestamps"))}
    if o.get("container"):
        kwargs["container"] = o["container"]
    if o.get("since") and _seconds(o["since"]):
        kwargs["since_seconds"] = _seconds(o["since"])
    text = api.call("core", "read_namespaced_pod_log", pod, op.namespace, **kwargs).decode("utf-8", "replace")
    if text and not text.endswith("\n"):
        text += "\n"  # kubectl prints each log line with its newline
    log = {"pod": pod, "container": o.get("container"), "previous": bool(o.get("previous")), "text": text}
    return Outcome(text or "(no log lines)", objects=[("log", log)])


def _metrics(api: KubeApi, op: Operation) -> list[dict[str, Any]]:
    """The metrics API's usage items for the pods or nodes a `top` names."""
    plural = op.kind
    if op.kind == "nodes" or (op.all_namespaces and not op.name):
        if op.name:
            return [api.json("custom", "get_cluster_custom_object", *_METRICS, plural, op.name)]
        items: list[dict[str, Any]] = api.json("custom", "list_cluster_custom_object", *_METRICS, plural).get(
            "items", [])
        return items
    if op.name:
        return [api.json("custom", "get_namespaced_custom_object", *_METRICS, op.namespace, plural, op.name)]
    selector = {"label_selector": op.options["selector"]} if op.options.get("selector") else {}
    items = api.json("custom", "list_namespaced_custom_object", *_METRICS, op.namespace, plural,
                     **selector).get("items", [])
    return items


def top(api: KubeApi, op: Operation, resource: Resource | None) -> Outcome:
    plural = op.kind
    try:
        raw = _metrics(api, op)
    except KubeError as exc:
        if exc.status == 404 and not op.name:
            raise KubeError("the metrics API (metrics.k8s.io) is not available: is metrics-server installed?",
                            404) from None
        raise
    raw = [i for i in raw if api.visible(i)] if op.all_namespaces else raw
    rows: list[tuple[str, str, str]] = []
    for item in raw:
        name = (item.get("metadata") or {}).get("name", "")
        usages = [(c.get("name"), c.get("usage") or {}) for c in item.get("containers", [])] if plural == "pods" \
            else [(None, item.get("usage") or {})]
        if op.options.get("containers"):
            rows += [(f"{name}/{c}", u.get("cpu", "0"), u.get("memory", "0")) for c, u in usages]
        else:
            cpu = sum(quantity(u.get("cpu")) for _, u in usages)
            mem = sum(quantity(u.get("memory")) for _, u in usages)
            rows.append((name, f"{round(cpu * 1000)}m", f"{round(mem / 1024**2)}Mi"))
    if op.options.get("sort_by") in ("cpu", "memory"):
        idx = 1 if op.options["sort_by"] == "cpu" else 2
        rows.sort(key=lambda r: quantity(r[idx]), reverse=True)
    text = "\n".join(f"{a:<40} {b:<8} {c}" for a, b, c in [("NAME", "CPU", "MEMORY"), *rows])
    return Outcome(text, objects=_usage_against_limits(api, op, raw) if plural == "pods" else [])


def _usage_against_limits(api: KubeApi, op: Operation, metrics: list[dict[str, Any]]) -> list[tuple[str, dict]]:
    """Each container's usage next to its limits (read from the pods), for the findings."""
    if op.name:
        pods = [api.read("pods", op.name, op.namespace)]
    elif op.all_namespaces:
        pods = [p for p in api.read_all_namespaces("pods", op.options.get("selector"), None) if api.visible(p)]
    else:
        pods = api.read_list("pods", op.namespace, op.options.get("selector"))
    limits = {((p.get("metadata") or {}).get("name"), c.get("name")): (c.get("resources") or {}).get("limits") or {}
              for p in pods for c in (p.get("spec") or {}).get("containers") or []}
    out: list[tuple[str, dict]] = []
    for item in metrics:
        pod = (item.get("metadata") or {}).get("name")
        for c in item.get("containers", []):
            lim, use = limits.get((pod, c.get("name")), {}), c.get("usage") or {}
            row = {"pod": pod, "container": c.get("name")}
            for res in ("memory", "cpu"):
                if lim.get(res) and use.get(res):
                    row.update({f"{res}_used": quantity(use[res]), f"{res}_limit": quantity(lim[res]),
                                f"{res}_shown": f"{use[res]} of {lim[res]}"})
            out.append(("usage", row))
    return out


def rollout_status(api: KubeApi, op: Operation, resource: Resource | None) -> Outcome:
    live = api.read(op.kind, named(op), op.namespace)
    done, text = summaries.rollout_status(op.kind, live)
    return Outcome(text, objects=[("rollout", {"name": f"{op.kind[:-1]}/{op.name}", "done": done, "text": text})])


def owned_history(api: KubeApi, op: Operation, live: dict[str, Any]) -> list[dict[str, Any]]:
    """The ReplicaSets (deployments) or ControllerRevisions a workload owns: its revisions."""
    selector = _selector_of(live)
    if op.kind == "deployments":
        return api.read_list("replicasets", op.namespace, selector)
    revisions: list[dict[str, Any]] = api.json("apps", "list_namespaced_controller_revision", op.namespace,
                                               **({"label_selector": selector} if selector else {})).get("items") or []
    return revisions


def rollout_history(api: KubeApi, op: Operation, resource: Resource | None) -> Outcome:
    live = api.read(op.kind, named(op), op.namespace)
    owned = owned_history(api, op, live)
    history = {"kind": op.kind[:-1], "name": op.name, "revisions": changes.revisions(op.kind, owned, live)}
    return Outcome(changes.history(op.kind, owned, live), objects=[("history", history)])


Read = Callable[[KubeApi, Operation, "Resource | None"], Outcome]
READS: dict[str, Read] = {"get": get, "describe": describe, "logs": logs, "top": top,
                          "rollout-status": rollout_status, "rollout-history": rollout_history}
