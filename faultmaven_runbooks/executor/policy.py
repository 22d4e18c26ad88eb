"""Execution policy (one YAML file, safe defaults) and approvals bound to a plan hash.

With no policy file the defaults are: semi-automated mode; every namespace except the
system ones; no Secrets or RBAC objects; delete only Pods; no change applies without an
approval.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, ValidationError

from ..errors import Conflict, Forbidden, InvalidInput
from .models import Approval, Mode
from .operation import Operation, Refused

SENSITIVE_KINDS = {"secrets"}
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


class Policy(BaseModel):
    model_config = {"extra": "forbid"}

    mode: Mode = "semi-automated"
    namespaces: NamespacePolicy = Field(default_factory=NamespacePolicy)
    verbs: list[str] = Field(default_factory=lambda: list(ALL_VERBS))
    kinds_denied: list[str] = Field(default_factory=list, description="Extra kinds to refuse.")
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
        if op.kind in SENSITIVE_KINDS and not self.allow_secrets:
            # Read-only modes that list Secrets leak credentials to the model.
            raise Refused("Secrets are off by default (credential exposure); the policy must set allow_secrets")
        if op.kind in RBAC_KINDS and not self.allow_rbac:
            raise Refused(f"{op.kind} are RBAC objects, off by default (privilege escalation); "
                          "the policy must set allow_rbac")
        if op.kind in self.kinds_denied:
            raise Refused(f"the policy denies {op.kind}")
        if op.verb not in self.verbs:
            raise Refused(f"the policy does not allow `{op.verb}`")
        if op.namespace is not None and not self.namespace_allowed(op.namespace):
            raise Refused(f"namespace {op.namespace!r} is outside the policy's allowlist "
                          f"(allow {self.namespaces.allow}, deny {self.namespaces.deny})")
        if op.verb == "delete":
            if op.kind not in self.delete_kinds:
                raise Refused(f"delete {op.kind} is a destructive verb beyond the policy "
                              f"(deletable kinds: {self.delete_kinds})")
            if op.options.get("force") and not self.allow_force_delete:
                raise Refused("delete --force skips graceful shutdown; the policy must set allow_force_delete")
        if op.verb == "scale" and not 0 <= op.options.get("replicas", 0) <= self.max_replicas:
            raise Refused(f"--replicas={op.options.get('replicas')} is outside 0..{self.max_replicas} (policy max_replicas)")

    def namespace_allowed(self, namespace: str) -> bool:
        if any(fnmatch.fnmatchcase(namespace, p) for p in self.namespaces.deny):
            return False
        return any(fnmatch.fnmatchcase(namespace, p) for p in self.namespaces.allow)

    def is_low_risk(self, op: Operation) -> bool:
        return op.verb in self.low_risk or f"{op.verb} {op.kind}" in self.low_risk

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


# -- approvals ----------------------------------------------------------------------------------
def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def iso(t: dt.datetime) -> str:
    return t.isoformat(timespec="seconds")


def new_approval(execution_id: str, plan_hash: str, requester: str, changes: list[int], ttl: int) -> Approval:
    t = now()
    return Approval(
        execution_id=execution_id, plan_hash=plan_hash, requested_by=requester,
        requested_at=iso(t), expires_at=iso(t + dt.timedelta(seconds=ttl)), changes=changes,
        how=(f"a human other than {requester!r} approves with `faultmaven-runbooks approve {execution_id} "
             f"--approver NAME` (or --reject), the HTTP API, or the MCP client's approval prompt"),
    )


def is_expired(approval: Approval, at: dt.datetime | None = None) -> bool:
    return (at or now()) >= dt.datetime.fromisoformat(approval.expires_at)


def decide(approval: Approval, *, approver: str, approve: bool, plan_hash: str, reason: str | None) -> Approval:
    """Record a decision, enforcing: pending, not expired, same plan, approver != requester."""
    approver = (approver or "").strip()
    if not approver or len(approver) > 100 or not approver.isprintable():
        raise InvalidInput("approver must be a printable name of 1-100 characters")
    if approval.status != "pending":
        raise Conflict(f"execution {approval.execution_id} was already {approval.status}; start a new execution")
    if is_expired(approval):
        approval.status = "expired"
        raise Conflict(f"the approval request expired at {approval.expires_at}; run execute again for a new plan")
    if approver.casefold() == approval.requested_by.strip().casefold():
        # Self-approval: the model (requester) must not approve its own plan.
        raise Forbidden(f"{approver!r} requested this execution and cannot approve it; another person must")
    if plan_hash != approval.plan_hash:
        # The runbook or context changed since the plan was shown: the approval covered another plan.
        raise Conflict("the plan changed since approval was requested (runbook edited?); run execute again")
    approval.status = "approved" if approve else "rejected"
    approval.approver = approver
    approval.decided_at = iso(now())
    approval.reason = reason
    return approval


Decision = Literal["approve", "reject"]
