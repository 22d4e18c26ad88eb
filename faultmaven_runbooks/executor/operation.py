"""The typed operation a kubectl step becomes, and the two ways a step is not run."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

CHANGE_VERBS = {
    "rollout-restart", "rollout-undo", "rollout-pause", "rollout-resume", "scale", "patch",
    "set-resources", "delete", "cordon", "uncordon", "label", "annotate",
}

# What a read's output is piped through: `{"filter": "grep", "patterns": [...], ...}`. Plain JSON,
# because it is part of the plan the approval hash covers; each filter module reads its own keys.
FilterSpec = dict[str, Any]


@dataclass
class Operation:
    """One typed Kubernetes API operation.

    `group` is None for the kinds the typed client knows; for any other kind it is the API
    group (`cdi.kubevirt.io`, `route.openshift.io`), or "?" when only API discovery at run
    time can tell which group serves the word the runbook used.
    """

    verb: str
    kind: str
    name: str | None = None
    namespace: str | None = None
    options: dict = field(default_factory=dict)
    group: str | None = None

    @property
    def custom(self) -> bool:
        return self.group is not None

    @property
    def all_namespaces(self) -> bool:
        return bool(self.options.get("all_namespaces"))

    @property
    def change(self) -> bool:
        return self.verb in CHANGE_VERBS

    def as_dict(self) -> dict:
        out = {"verb": self.verb, "kind": self.kind, "name": self.name,
               "namespace": self.namespace, "options": self.options}
        if self.group is not None:
            out["group"] = self.group
        return out

    def describe(self) -> str:
        kind = f"{self.kind}.{self.group}" if self.group and self.group != "?" else self.kind
        target = f"{kind}/{self.name}" if self.name else kind
        where = " in every allowed namespace" if self.all_namespaces else \
            f" in {self.namespace}" if self.namespace else ""
        shown = {k: v for k, v in self.options.items() if k not in ("filters", "all_namespaces")}
        extra = ", ".join(f"{k}={json.dumps(v, sort_keys=True)}" for k, v in sorted(shown.items()))
        pipe = "".join(f" | {f.get('shown', f['filter'])}" for f in self.options.get("filters", []))
        return f"{self.verb} {target}{where}" + (f" ({extra})" if extra else "") + pipe


class Manual(Exception):
    """Not runnable as a typed operation; a human runs it (the message says why)."""


class Refused(Exception):
    """Forbidden by the sandbox or the policy (the message says why)."""


class FilterError(ValueError):
    """A read-only filter (grep, jq, ...) or output template failed on the text it was given."""
