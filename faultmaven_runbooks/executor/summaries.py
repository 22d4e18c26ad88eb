"""Plain-text views of API objects: kubectl-like tables and describe summaries.

Works on the raw JSON dicts the API returns, so a missing field never crashes a step.
"""

from __future__ import annotations

import datetime as dt

from .printing import tabulate
from .redact import clean_object, to_yaml


def _g(obj: dict | None, *path, default=None):
    for key in path:
        if not isinstance(obj, dict):
            return default
        obj = obj.get(key)
    return default if obj is None else obj


def age(ts: str | None) -> str:
    if not ts:
        return "<unknown>"
    try:
        then = dt.datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return "<unknown>"
    secs = max(0, int((dt.datetime.now(dt.UTC) - then).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if secs >= size:
            return f"{secs // size}{unit}"
    return f"{secs}s"


def pod_status(pod: dict) -> str:
    if _g(pod, "metadata", "deletionTimestamp"):
        return "Terminating"
    for cs in _g(pod, "status", "containerStatuses", default=[]):
        waiting = _g(cs, "state", "waiting", "reason")
        if waiting:
            return waiting
        term = _g(cs, "state", "terminated", "reason")
        if term:
            return term
    return _g(pod, "status", "reason") or _g(pod, "status", "phase", default="Unknown")


def _ready(pod: dict) -> str:
    statuses = _g(pod, "status", "containerStatuses", default=[])
    total = len(_g(pod, "spec", "containers", default=[])) or len(statuses)
    return f"{sum(1 for c in statuses if c.get('ready'))}/{total}"


def _row(kind: str, o: dict, wide: bool) -> list[str]:
    name = _g(o, "metadata", "name", default="?")
    created = age(_g(o, "metadata", "creationTimestamp"))
    if kind == "pods":
        restarts = sum(int(c.get("restartCount", 0)) for c in _g(o, "status", "containerStatuses", default=[]))
        row = [name, _ready(o), pod_status(o), str(restarts), created]
        if not wide:
            return row
        return row + [_g(o, "status", "podIP", default="<none>"), _g(o, "spec", "nodeName", default="<none>")]
    if kind in ("deployments", "statefulsets", "replicasets"):
        want = _g(o, "spec", "replicas", default=0)
        return [name, f"{_g(o, 'status', 'readyReplicas', default=0)}/{want}",
                str(_g(o, "status", "updatedReplicas", default=0)),
                str(_g(o, "status", "availableReplicas", default=0)), created]
    if kind == "daemonsets":
        s = o.get("status") or {}
        return [name, str(s.get("desiredNumberScheduled", 0)), str(s.get("currentNumberScheduled", 0)),
                str(s.get("numberReady", 0)), str(s.get("numberAvailable", 0)), created]
    if kind == "nodes":
        conditions = _g(o, "status", "conditions", default=[])
        ready = next((c.get("status") for c in conditions if c.get("type") == "Ready"), "Unknown")
        status = "Ready" if ready == "True" else "NotReady"
        if _g(o, "spec", "unschedulable"):
            status += ",SchedulingDisabled"
        return [name, status, created, _g(o, "status", "nodeInfo", "kubeletVersion", default="")]
    if kind == "events":
        obj = o.get("involvedObject") or {}
        return [o.get("lastTimestamp") or o.get("eventTime") or "", o.get("type", ""), o.get("reason", ""),
                f"{str(obj.get('kind', '')).lower()}/{obj.get('name', '')}", str(o.get("message", ""))[:200]]
    if kind == "horizontalpodautoscalers":
        s = o.get("spec") or {}
        return [name, str(_g(s, "scaleTargetRef", "name", default="")), str(s.get("minReplicas", 1)),
                str(s.get("maxReplicas", "")), str(_g(o, "status", "currentReplicas", default=0)), created]
    if kind == "jobs":
        return [name, f"{_g(o, 'status', 'succeeded', default=0)}/{_g(o, 'spec', 'completions', default=1)}", created]
    if kind == "persistentvolumeclaims":
        return [name, _g(o, "status", "phase", default=""), _g(o, "spec", "volumeName", default=""),
                _g(o, "status", "capacity", "storage", default=""), created]
    if kind == "services":
        return [name, _g(o, "spec", "type", default=""), _g(o, "spec", "clusterIP", default=""), created]
    return [name, created]


_HEADERS = {
    "pods": ["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
    "deployments": ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"],
    "statefulsets": ["NAME", "READY", "UPDATED", "AVAILABLE", "AGE"],
    "replicasets": ["NAME", "READY", "UPDATED", "AVAILABLE", "AGE"],
    "daemonsets": ["NAME", "DESIRED", "CURRENT", "READY", "AVAILABLE", "AGE"],
    "nodes": ["NAME", "STATUS", "AGE", "VERSION"],
    "events": ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"],
    "jobs": ["NAME", "COMPLETIONS", "AGE"],
    "horizontalpodautoscalers": ["NAME", "REFERENCE", "MINPODS", "MAXPODS", "REPLICAS", "AGE"],
    "persistentvolumeclaims": ["NAME", "STATUS", "VOLUME", "CAPACITY", "AGE"],
    "services": ["NAME", "TYPE", "CLUSTER-IP", "AGE"],
}


def table(kind: str, items: list[dict], wide: bool = False, no_headers: bool = False,
          namespaces: bool = False) -> str:
    """kubectl's table for `get`: a NAMESPACE column first when listing every namespace."""
    if not items:
        return ""  # kubectl says "No resources found" on stderr: a pipe reads nothing
    head = _HEADERS.get(kind, ["NAME", "AGE"]) + (["IP", "NODE"] if wide and kind == "pods" else [])
    rows = [_row(kind, o, wide) for o in items]
    if namespaces:
        head = ["NAMESPACE", *head]
        rows = [[_g(o, "metadata", "namespace", default=""), *r] for o, r in zip(items, rows, strict=True)]
    return tabulate(([] if no_headers else [head]) + [[str(c) for c in r] for r in rows])


def describe(kind: str, o: dict, events: list[dict]) -> str:
    meta = o.get("metadata") or {}
    lines = [f"Name:         {meta.get('name')}"]
    if meta.get("namespace"):
        lines.append(f"Namespace:    {meta['namespace']}")
    lines.append(f"Labels:       {', '.join(f'{k}={v}' for k, v in (meta.get('labels') or {}).items()) or '<none>'}")
    lines.append(f"Created:      {meta.get('creationTimestamp', '')} ({age(meta.get('creationTimestamp'))} ago)")
    if kind == "pods":
        lines += [f"Node:         {_g(o, 'spec', 'nodeName', default='<none>')}",
                  f"Status:       {pod_status(o)} (phase {_g(o, 'status', 'phase', default='?')})"]
        statuses = {c.get("name"): c for c in _g(o, "status", "containerStatuses", default=[])}
        for c in _g(o, "spec", "containers", default=[]):
            cs = statuses.get(c.get("name"), {})
            lines.append(f"Container {c.get('name')}: image {c.get('image')}, ready={cs.get('ready', False)}, "
                         f"restarts={cs.get('restartCount', 0)}")
            lines.append(f"  State:      {_state(cs.get('state'))}")
            if cs.get("lastState"):
                lines.append(f"  Last State: {_state(cs.get('lastState'))}")
            lines.append(f"  Resources:  {c.get('resources') or '<none>'}")
    elif kind in ("deployments", "statefulsets", "daemonsets", "replicasets"):
        spec = o.get("spec") or {}
        updated, ready, available = (_g(o, "status", key, default=0)
                                     for key in ("updatedReplicas", "readyReplicas", "availableReplicas"))
        lines.append(f"Replicas:     {spec.get('replicas', '-')} desired | {updated} updated | "
                     f"{ready} ready | {available} available")
        lines.append(f"Selector:     {_g(spec, 'selector', 'matchLabels', default={})}")
        for c in _g(spec, "template", "spec", "containers", default=[]):
            resources = c.get("resources") or "<none>"
            lines.append(f"Container {c.get('name')}: image {c.get('image')}, resources {resources}")
    elif kind == "nodes":
        lines.append(f"Unschedulable: {bool(_g(o, 'spec', 'unschedulable'))}")
        lines.append(f"Taints:       {_g(o, 'spec', 'taints', default=[]) or '<none>'}")
        lines.append(f"Allocatable:  {_g(o, 'status', 'allocatable', default={})}")
    else:
        body = {k: v for k, v in clean_object(o).items() if k in ("spec", "data", "subsets")}
        if body:
            lines.append(to_yaml(body).rstrip())
    for c in _g(o, "status", "conditions", default=[]):
        lines.append(f"Condition {c.get('type')}={c.get('status')}"
                     + (f" ({c.get('reason')}: {str(c.get('message', ''))[:160]})" if c.get("reason") else ""))
    lines.append("Events:" + ("" if events else "       <none>"))
    for e in events[-15:]:
        message = str(e.get("message", ""))[:200]
        lines.append(f"  {e.get('type', '')}  {e.get('reason', '')}  x{e.get('count', 1)}  {message}")
    return "\n".join(lines)


def _state(state: dict | None) -> str:
    if not state:
        return "<unknown>"
    name, detail = next(iter(state.items()))
    bits = [name.capitalize()]
    bits += [f"{k}={detail[k]}" for k in ("reason", "exitCode", "message") if detail.get(k) is not None]
    return " ".join(str(b) for b in bits)[:300]


def rollout_status(kind: str, o: dict) -> tuple[bool, str]:
    name, spec, st = _g(o, "metadata", "name"), o.get("spec") or {}, o.get("status") or {}
    if kind == "daemonsets":
        want = st.get("desiredNumberScheduled", 0)
        updated, ready = st.get("updatedNumberScheduled", 0), st.get("numberAvailable", 0)
    else:
        want, updated, ready = spec.get("replicas", 1), st.get("updatedReplicas", 0), st.get("availableReplicas", 0)
    if _g(o, "metadata", "generation", default=0) > st.get("observedGeneration", 0):
        return False, f"Waiting for {kind[:-1]} {name!r} spec update to be observed..."
    for c in st.get("conditions", []):
        if c.get("type") == "Progressing" and c.get("reason") == "ProgressDeadlineExceeded":
            return False, f"{kind[:-1]} {name!r} exceeded its progress deadline"
    if updated < want:
        return False, f"Waiting for rollout of {name!r} to finish: {updated} of {want} updated replicas"
    if ready < want:
        return False, f"Waiting for rollout of {name!r} to finish: {ready} of {want} updated replicas are available"
    return True, f"{kind[:-1]} {name!r} successfully rolled out ({ready}/{want} available)"
