"""Pure functions: the patch body a change operation sends, computed from the live object.

Kept apart from kube.py so the rules (which container, which revision) are testable without
an API server and kube.py stays the only module that talks to the cluster.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator
from typing import Any

from .operation import Operation

STRATEGIC = "application/strategic-merge-patch+json"
MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
PatchBody = dict[str, Any] | list[dict[str, Any]]  # a merge patch, or a JSON patch's operations


class ChangeError(Exception):
    """The change cannot be built against the live object (message says why)."""


def restart_patch(now: dt.datetime | None = None) -> tuple[dict, str]:
    stamp = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
    annotations = {"kubectl.kubernetes.io/restartedAt": stamp}
    return {"spec": {"template": {"metadata": {"annotations": annotations}}}}, STRATEGIC


def pause_patch(paused: bool) -> tuple[dict, str]:
    return {"spec": {"paused": paused}}, STRATEGIC


def cordon_patch(unschedulable: bool) -> tuple[dict, str]:
    return {"spec": {"unschedulable": unschedulable}}, STRATEGIC


def resources_patch(op: Operation, live: dict) -> tuple[dict, str]:
    containers = (((live.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []
    names = [c.get("name") for c in containers]
    wanted = op.options.get("container")
    if wanted and wanted not in names:
        raise ChangeError(f"container {wanted!r} not found in {op.kind[:-1]} {op.name} "
                          f"(containers: {', '.join(map(str, names))})")
    targets = [wanted] if wanted else names
    resources = {k: op.options[k] for k in ("limits", "requests") if op.options.get(k)}
    body = {"spec": {"template": {"spec": {"containers": [{"name": n, "resources": resources} for n in targets]}}}}
    return body, STRATEGIC


def label_patch(op: Operation, live: dict) -> tuple[dict, str]:
    field = "labels" if op.verb == "label" else "annotations"
    current = ((live.get("metadata") or {}).get(field)) or {}
    for key, value in op.options["changes"].items():
        if value is not None and key in current and current[key] != value and not op.options.get("overwrite"):
            raise ChangeError(f"{field[:-1]} {key!r} already has value {current[key]!r}; add --overwrite to replace it")
    return {"metadata": {field: dict(op.options["changes"])}}, MERGE


def user_patch(op: Operation) -> tuple[PatchBody, str]:
    kind = op.options.get("patch_type", "strategic")
    return op.options["patch"], {"strategic": STRATEGIC, "merge": MERGE, "json": JSON_PATCH}[kind]


def undo_deployment_patch(op: Operation, replicasets: list[dict], live: dict) -> tuple[list, str, int]:
    """JSON patch replacing the pod template with the one of the wanted earlier revision."""
    by_rev = dict(_owned_revisions("deployments", replicasets, live))
    if not by_rev:
        raise ChangeError(f"no revision history found for deployment {op.name}")
    current = max(by_rev)
    target = op.options.get("to_revision") or 0
    if target == 0:
        older = [r for r in by_rev if r < current]
        if not older:
            raise ChangeError(f"deployment {op.name} has no previous revision to roll back to")
        target = max(older)
    if target not in by_rev:
        raise ChangeError(f"revision {target} of deployment {op.name} not found (known: {sorted(by_rev)})")
    template = copy.deepcopy((by_rev[target].get("spec") or {}).get("template") or {})
    labels = (template.get("metadata") or {}).get("labels") or {}
    labels.pop("pod-template-hash", None)  # belongs to the ReplicaSet, not the Deployment
    return [{"op": "replace", "path": "/spec/template", "value": template}], JSON_PATCH, target


def undo_revision_patch(op: Operation, revisions: list[dict], live: dict) -> tuple[dict, str, int]:
    """StatefulSet/DaemonSet: the ControllerRevision's data is the patch to go back."""
    by_rev = dict(_owned_revisions(op.kind, revisions, live))
    if not by_rev:
        raise ChangeError(f"no revision history found for {op.kind[:-1]} {op.name}")
    current = max(by_rev)
    target = op.options.get("to_revision") or max([r for r in by_rev if r < current], default=0)
    if target not in by_rev:
        raise ChangeError(f"{op.kind[:-1]} {op.name} has no revision {target} to roll back to "
                          f"(known: {sorted(by_rev)})")
    data = by_rev[target].get("data")
    if not isinstance(data, dict):
        raise ChangeError(f"revision {target} carries no template data")
    return data, STRATEGIC, target


def _owned_revisions(kind: str, owners: list[dict], live: dict) -> Iterator[tuple[int, dict]]:
    """(revision, item) for each ReplicaSet or ControllerRevision that `live` owns."""
    uid = (live.get("metadata") or {}).get("uid")
    for item in owners:
        meta = item.get("metadata") or {}
        if uid and uid not in [o.get("uid") for o in meta.get("ownerReferences") or []]:
            continue
        annotations = meta.get("annotations") or {}
        rev = annotations.get(REVISION_ANNOTATION) if kind == "deployments" else item.get("revision")
        if rev is None:
            continue
        try:
            yield int(rev), item
        except (TypeError, ValueError):
            continue


def revisions(kind: str, owners: list[dict], live: dict) -> list[dict]:
    """Revisions in order, each with the images of its pod template (what a rollout changed)."""
    out = []
    for rev, item in _owned_revisions(kind, owners, live):
        template = ((item.get("spec") or {}).get("template") if kind == "deployments"
                    else ((item.get("data") or {}).get("spec") or {}).get("template")) or {}
        containers = ((template.get("spec") or {}).get("containers")) or []
        out.append({"revision": rev, "images": {c.get("name"): c.get("image") for c in containers}})
    return sorted(out, key=lambda r: r["revision"])


def history(kind: str, owners: list[dict], live: dict) -> str:
    """`rollout history` from ReplicaSets (deployments) or ControllerRevisions."""
    rows = []
    for rev, item in _owned_revisions(kind, owners, live):
        meta = item.get("metadata") or {}
        cause = (meta.get("annotations") or {}).get("kubernetes.io/change-cause", "<none>")
        rows.append((rev, cause, meta.get("name")))
    if not rows:
        return "No rollout history found."
    return "REVISION  CHANGE-CAUSE  FROM\n" + "\n".join(f"{r:<9} {c}  {n}" for r, c, n in sorted(rows))
