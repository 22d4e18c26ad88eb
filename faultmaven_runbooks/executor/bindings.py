"""Set-up lines that bind a variable from a read: run the read (a typed operation, checked by
the policy like any step), take its one value, validate it like any context value, and hand it
to the later steps.

`export CDI_NAMESPACE="$(kubectl get deployment -A | grep cdi-operator | awk '{print $1}')"`
becomes: list deployments in every allowed namespace, keep the line naming cdi-operator, print
its first column; `cdi` is a valid namespace, so `$CDI_NAMESPACE` is `cdi` from then on. A value
that is no valid name (a read that prints `--kubeconfig=/x`, two namespaces, nothing) binds
nothing, and the steps that need it say so.
"""

from __future__ import annotations

from collections.abc import Callable

from .apiresult import KubeError, Outcome
from .kube import KubeGateway
from .operation import Refused
from .placeholders import PlaceholderError, flatten_context, validate
from .planner import Plan


class Binder:
    def __init__(self, gateway: KubeGateway, before: Callable[[int, str], None] = lambda step, operation: None):
        self.gateway = gateway
        self.before = before  # audits each read before it is sent
        self.values: dict[str, str] = {}
        self.sources: dict[str, str] = {}
        self.outcomes: dict[int, Outcome] = {}
        self.problems: list[str] = []

    def run(self, plan: Plan, given: dict, analyse: Callable[[dict], Plan]) -> None:
        """Bind, in runbook order, every variable a planned step needs or a planned set-up step sets."""
        planned = {p.number for p in plan.steps}
        wanted = {m for p in plan.steps for m in p.parsed.missing}
        for number in sorted(set(plan.bound_by.values())):
            current = analyse({**given, **self.values})  # a binding may use the ones before it
            step = current.every.get(number)
            if step is None or step.classification != "read":
                continue
            for binding in step.parsed.binds:
                have = flatten_context({**given, **self.values}).get(binding.key)
                if binding.source != "read" or have not in (None, "") or \
                        (binding.key not in wanted and number not in planned):
                    continue
                if step.parsed.missing:
                    self.problems.append(f"step {number} needs {', '.join(step.parsed.missing)} to bind {binding.var}")
                    continue
                self._bind(number, step, binding)

    def _bind(self, number: int, step, binding) -> None:
        self.before(number, step.parsed.operation.describe())
        try:
            out = self.gateway.run(step.parsed.operation)
        except (KubeError, Refused) as exc:
            self.problems.append(f"step {number} could not bind {binding.var}: {exc}")
            return
        self.outcomes[number] = out
        values = sorted(set(out.output.split()))
        if len(values) != 1:
            found = ", ".join(values[:3]) + (" ..." if len(values) > 3 else "") if values else "nothing"
            self.problems.append(f"step {number} read {found} for {binding.var}, not one value; pass {binding.key} "
                                 "in context")
            return
        try:
            # validated like any caller's value: a read cannot make a name into a flag or a path
            value = validate(binding.key, values[0])
        except PlaceholderError as exc:
            self.problems.append(f"step {number} could not bind {binding.var}: {exc}")
            return
        self.values[binding.key] = value
        self.sources[binding.key] = f"step {number}: {step.parsed.command[:160]}"
