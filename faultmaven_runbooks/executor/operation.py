"""The typed operation a kubectl step becomes, and the two ways a step is not run."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

CHANGE_VERBS = {
    "rollout-restart", "rollout-undo", "rollout-pause", "rollout-resume", "scale", "patch",
    "set-resources", "delete", "cordon", "uncordon", "label", "annotate",
}


@dataclass
class Operation:
    """One typed Kubernetes API operation."""

    verb: str
    kind: str
    name: str | None = None
    namespace: str | None = None
    options: dict = field(default_factory=dict)

    @property
    def change(self) -> bool:
        return self.verb in CHANGE_VERBS

    def as_dict(self) -> dict:
        return {"verb": self.verb, "kind": self.kind, "name": self.name,
                "namespace": self.namespace, "options": self.options}

    def describe(self) -> str:
        target = f"{self.kind}/{self.name}" if self.name else self.kind
        where = f" in {self.namespace}" if self.namespace else ""
        extra = ", ".join(f"{k}={json.dumps(v, sort_keys=True)}" for k, v in sorted(self.options.items()))
        return f"{self.verb} {target}{where}" + (f" ({extra})" if extra else "")


class Manual(Exception):
    """Not runnable as a typed operation; a human runs it (the message says why)."""


class Refused(Exception):
    """Forbidden by the sandbox or the policy (the message says why)."""
