"""Execution policy: one YAML file with safe defaults, and the checks every operation passes.

With no policy file the defaults are: semi-automated mode; every namespace except the system
ones (their Namespace objects included); no Secrets or RBAC objects; delete only Pods, never
forced; replica counts within max_replicas wherever they are set; no change applies without
an approval.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeGuard

import yaml
from pydantic import BaseModel, Field, ValidationError

from ..errors import InvalidInput
from .models import Mode, Risk
from .operation import Operation, Refused
from .vocabulary import BUILTIN_GROUPS, HIGH_RISK_PATCH_KEYS, REPLICA_KEYS

SENSITIVE_KINDS = {"secrets"}
_SECRET_LIKE = re.compile(r"secret|credential|token", re.I)
RBAC_KINDS = {"roles", "rolebindings", "clusterroles", "clusterrolebindings", "serviceaccounts"}
ALL_VERBS = [
    "get", "describe", "logs", "top", "rollout-status", "rollout-history", "rollout-restart",
    "rollout-undo", "rollout-pause", "rollout-resume", "scale", "patch", "set-resources", "delete",
    "cordon", "uncordon", "label", "annotate",
]
_MODE_RANK = {"manual": 0, "semi-automated": 1, "fully-automated": 2}


class NamespacePolicy(BaseModel):
    allow: list[str] = Field(default_factory=lambda: ["*"], description="Glob patterns of namespaces.")
    deny: list[str] = Field(default_factory=lambda: ["kube-system", "kube-public", "kube-node-lease"])


class GroupPolicy(BaseModel):
    allow: list[str] = Field(default_factory=lambda: ["*"], description="Glob patterns of API groups ('' is core).")
    deny: list[str] = Field(default_factory=list)


class Policy(BaseModel):
    model_config = {"extra": "forbid"}

    mode: Mode = "semi-automated"
    namespaces: NamespacePolicy = Field(default_factory=NamespacePolicy)
    cluster_wide_reads: bool = Field(
        True, description="Reads with -A list every namespace; objects outside the namespace allowlist are dropped.")
    api_groups: GroupPolicy = Field(default_factory=GroupPolicy)
    verbs: list[str] = Field(default_factory=lambda: list(ALL_VERBS))
    kinds_denied: list[str] = Field(default_factory=list,
                                    description="Kinds to refuse: 'plural' or 'plural.group' "
                                                "(e.g. routes.route.openshift.io).")
    allow_secrets: bool = False
    allow_rbac: bool = False
    delete_kinds: list[str] = Field(default_factory=lambda: ["pods"])
    allow_force_delete: bool = False
    max_replicas: int = 50
    low_risk: list[str] = Field(
        default_factory=lambda: ["delete pods", "rollout-restart"],
        description="Changes applied without approval in fully-automated mode: 'verb' or 'verb kind'.",
    )
    approval_ttl_seconds: int = Field(900, ge=30, le=86400)
    step_timeout_seconds: float = Field(20, gt=0, le=300)
    output_max_chars: int = Field(4000, ge=200, le=100_000)
    log_tail_max: int = Field(500, ge=1, le=10_000)

    source: str = Field("built-in defaults", exclude=True)

    # -- checks ---------------------------------------------------------------------------
    def check(self, op: Operation) -> None:
        """Raise Refused with the reason when the policy forbids the operation."""
        if op.kind in SENSITIVE_KINDS and (op.group is None or op.group == "?") and not self.allow_secrets:
            # Read-only modes that list Secrets leak credentials to the model.
            raise Refused("Secrets are off by default (credential exposure); the policy must set allow_secrets")
        if op.group is not None and _SECRET_LIKE.search(op.kind) and not self.allow_secrets:
            # ExternalSecret, SealedSecret, SecretStore ...: custom resources that carry or fetch credentials
            raise Refused(f"{op.kind} look like credential-carrying resources, off with Secrets (credential "
                          "exposure); the policy must set allow_secrets")
        if op.kind in RBAC_KINDS and not self.allow_rbac:
            raise Refused(f"{op.kind} are RBAC objects, off by default (privilege escalation); "
                          "the policy must set allow_rbac")
        group = BUILTIN_GROUPS.get(op.kind, "") if op.group is None else op.group
        if op.kind in self.kinds_denied or (group not in ("", "?") and f"{op.kind}.{group}" in self.kinds_denied):
            raise Refused(f"the policy denies {op.kind}")
        if group != "?" and not self.group_allowed(group):
            raise Refused(f"the policy denies the API group {group or 'core'!r} (api_groups allow "
                          f"{self.api_groups.allow}, deny {self.api_groups.deny})")
        if op.all_namespaces and not self.cluster_wide_reads:
            raise Refused("-A/--all-namespaces lists every namespace at once (bulk, and beyond the namespace "
                          "allowlist) and the policy's cluster_wide_reads is off; name one namespace with -n")
        if op.verb not in self.verbs:
            raise Refused(f"the policy does not allow `{op.verb}`")
        if op.namespace is not None and not self.namespace_allowed(op.namespace):
            raise Refused(f"namespace {op.namespace!r} is outside the policy's allowlist "
                          f"(allow {self.namespaces.allow}, deny {self.namespaces.deny})")
        if op.kind == "namespaces" and op.name and not self.namespace_allowed(op.name):
            # `label namespace kube-system ...` changes the denied namespace itself (e.g. its Pod
            # Security level): the Namespace object is as off limits as its contents.
            raise Refused(f"namespace {op.name!r} is outside the policy's allowlist, and so is its Namespace object")
        if op.verb == "delete":
            self._check_delete(op)
        if op.verb == "scale":
            self._check_replicas([("--replicas", op.options.get("replicas"))])
        if op.verb == "patch":
            self._check_replicas(_replica_fields(op.options.get("patch")))

    def _check_delete(self, op: Operation) -> None:
        if op.kind not in self.delete_kinds:
            raise Refused(f"delete {op.kind} is a destructive verb beyond the policy "
                          f"(deletable kinds: {self.delete_kinds})")
        # --grace-period=0 kills at once with or without --force: both skip graceful shutdown.
        forced = op.options.get("force") or op.options.get("grace_period") == 0
        if forced and not self.allow_force_delete:
            raise Refused("a force delete (--force or --grace-period=0) skips graceful shutdown; "
                          "the policy must set allow_force_delete")

    def _check_replicas(self, fields: list[tuple[str, object]]) -> None:
        """Replica counts set by scale or by a patch (spec.replicas, HPA min/maxReplicas) stay in bounds."""
        for where, value in fields:
            if value is None and where == "--replicas":
                continue
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= self.max_replicas:
                raise Refused(f"{where}={str(value)[:20]} is outside 0..{self.max_replicas} (policy max_replicas)")

    def risk(self, op: Operation) -> tuple[Risk, str | None]:
        """'low' only for changes the policy lists; a patch of scheduling keys is always 'high'."""
        keys = _patch_keys(op.options.get("patch")) & HIGH_RISK_PATCH_KEYS if op.verb == "patch" else set()
        if keys:
            return "high", (f"high risk: the patch changes {', '.join(sorted(keys))} (where pods run or how "
                            "they resolve names); it always needs a person's approval")
        if op.kind == "namespaces":
            return "high", "high risk: labels on a Namespace change which policies select it"
        low = op.verb in self.low_risk or f"{op.verb} {op.kind}" in self.low_risk
        return ("low" if low else "high"), None

    def group_allowed(self, group: str) -> bool:
        if any(fnmatch.fnmatchcase(group, p) for p in self.api_groups.deny):
            return False
        return any(fnmatch.fnmatchcase(group, p) for p in self.api_groups.allow)

    def namespace_allowed(self, namespace: str) -> bool:
        if any(fnmatch.fnmatchcase(namespace, p) for p in self.namespaces.deny):
            return False
        return any(fnmatch.fnmatchcase(namespace, p) for p in self.namespaces.allow)

    def effective_mode(self, requested: Mode | None, auto_execute: bool) -> Mode:
        """The stricter of the policy's mode and the caller's wish; callers can never loosen it."""
        wanted: Mode = requested or ("fully-automated" if auto_execute else "semi-automated")
        return wanted if _MODE_RANK[wanted] <= _MODE_RANK[self.mode] else self.mode

    def describe(self) -> str:
        return (f"{self.source}: mode={self.mode}, namespaces allow={self.namespaces.allow} "
                f"deny={self.namespaces.deny}, secrets={'on' if self.allow_secrets else 'off'}, "
                f"rbac={'on' if self.allow_rbac else 'off'}, delete={self.delete_kinds}")


def load_policy(path: Path | None) -> Policy:
    """The policy from YAML, or the defaults. A broken file is an error, never silently ignored."""
    if path is None:
        return Policy()
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise InvalidInput(f"policy file {path} cannot be read ({exc}); fix policy_file") from None
    except yaml.YAMLError as exc:
        raise InvalidInput(f"policy file {path} is not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"policy file {path} must be a mapping of settings")
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(f"policy file {path}: {where}: {first['msg']}") from None
    policy.source = str(path)
    return policy


def _walk(body: object) -> Iterator[tuple[str, Any]]:
    if isinstance(body, dict):
        for key, value in body.items():
            yield key, value
            yield from _walk(value)
    elif isinstance(body, list):
        for value in body:
            yield from _walk(value)


def _json_patch(body: object) -> TypeGuard[list[dict[str, Any]]]:
    return isinstance(body, list) and all(isinstance(e, dict) and "op" in e and "path" in e for e in body)


def _segments(path: str) -> list[str]:
    return [seg.replace("~1", "/").replace("~0", "~") for seg in path.split("/") if seg]


def _patch_keys(body: object) -> set[str]:
    if _json_patch(body):
        paths = {seg for e in body for seg in _segments(str(e["path"]))}
        return paths | {k for e in body for k, _ in _walk(e.get("value"))}
    return {key for key, _ in _walk(body)}


def _replica_fields(body: object) -> list[tuple[str, object]]:
    if _json_patch(body):
        # `{"op": "replace", "path": "/spec/replicas", "value": 5000}` sets a replica count too
        direct = [(_segments(str(e["path"]))[-1], e.get("value")) for e in body
                  if e.get("op") in ("add", "replace") and _segments(str(e["path"]))
                  and _segments(str(e["path"]))[-1] in REPLICA_KEYS]
        return direct + [(k, v) for e in body for k, v in _walk(e.get("value")) if k in REPLICA_KEYS]
    return [(key, value) for key, value in _walk(body) if key in REPLICA_KEYS]
