"""Change operations on the typed client's kinds: always a server dry run (dryRun=All) first,
shown as a diff of the live object; applied only when `apply` (an approval was given).

The patch bodies come from changes.py (pure rules); this module only sends them.
"""

from __future__ import annotations

from typing import Any

from . import changes
from .apiresult import KubeError, Outcome
from .discovery import Resource
from .kube_api import KubeApi, named, singular
from .kube_reads import owned_history
from .operation import Operation
from .redact import object_diff


def change(api: KubeApi, op: Operation, apply: bool, resource: Resource | None = None) -> Outcome:
    if resource is not None:
        return api.custom.change(op, apply, resource)
    name = named(op)
    live = api.read(op.kind, name, op.namespace)  # pre-check: the target exists and we may read it
    label = f"{op.kind[:-1]}/{name}"
    try:
        if op.verb == "delete":
            return _delete(api, op, apply, label)
        if op.verb == "scale":
            return _scale(api, op, apply, label)
        body, ctype = _body(api, op, live)
    except changes.ChangeError as exc:
        raise KubeError(str(exc), 422) from None
    after = api.patch(op.kind, name, op.namespace, body, ctype, dry_run=True)
    diff = object_diff(live, after, label)
    if not apply:
        return Outcome(f"server dry run (dryRun=All) accepted: {op.describe()}", diff, [(op.kind, after)])
    applied = api.patch(op.kind, name, op.namespace, body, ctype, dry_run=False)
    return Outcome(f"applied: {op.describe()}", diff, [(op.kind, applied)])


def _body(api: KubeApi, op: Operation, live: dict[str, Any]) -> tuple[changes.PatchBody, str]:
    v = op.verb
    if v == "rollout-restart":
        return changes.restart_patch(api.clock())
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
        history = owned_history(api, op, live)
        if op.kind == "deployments":
            body, ctype, _ = changes.undo_deployment_patch(op, history, live)
            return body, ctype
        revision_body, ctype, _ = changes.undo_revision_patch(op, history, live)
        return revision_body, ctype
    raise changes.ChangeError(f"{v} is not implemented")


def _delete(api: KubeApi, op: Operation, apply: bool, label: str) -> Outcome:
    group, method, args = api.method("delete", op.kind, op.namespace)
    kwargs: dict[str, Any] = {}
    if "grace_period" in op.options:
        kwargs["grace_period_seconds"] = op.options["grace_period"]
    if op.kind != "pods":
        kwargs["propagation_policy"] = "Background"
    api.call(group, method, op.name, *args, dry_run="All", **kwargs)
    diff = (f"--- {label} (live)\n+++ {label} (after change)\n- {label} in {op.namespace} "
            "(deleted; its controller recreates it)")
    if not apply:
        return Outcome(f"server dry run (dryRun=All) accepted: {op.describe()}", diff)
    api.call(group, method, op.name, *args, **kwargs)
    return Outcome(f"applied: {op.describe()}", diff)


def _scale(api: KubeApi, op: Operation, apply: bool, label: str) -> Outcome:
    word = singular(op.kind)
    current = api.json("apps", f"read_namespaced_{word}_scale", op.name, op.namespace)
    before = (current.get("spec") or {}).get("replicas")
    want = op.options.get("current_replicas")
    if want is not None and want != before:
        raise KubeError(f"--current-replicas={want} but {label} has {before}; nothing changed")
    body = {"spec": {"replicas": op.options["replicas"]}}
    method = f"patch_namespaced_{word}_scale"
    after = api.json("apps", method, op.name, op.namespace, body, dry_run="All", _content_type=changes.MERGE)
    diff = (f"--- {label} (live)\n+++ {label} (after change)\n- replicas: {before}\n"
            f"+ replicas: {(after.get('spec') or {}).get('replicas')}")
    if not apply:
        return Outcome(f"server dry run (dryRun=All) accepted: {op.describe()}", diff)
    api.json("apps", method, op.name, op.namespace, body, _content_type=changes.MERGE)
    return Outcome(f"applied: {op.describe()}", diff)
