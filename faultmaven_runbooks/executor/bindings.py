"""Set-up lines that bind a variable from a read: run the read (a typed operation, checked by
the policy like any step), take its one value, validate it like any context value, and hand it
to the later steps.

`export CDI_NAMESPACE="$(kubectl get deployment -A | grep cdi-operator | awk '{print $1}')"`
becomes: list deployments in every allowed namespace, keep the line naming cdi-operator, print
its first column; `cdi` is a valid namespace, so `$CDI_NAMESPACE` is `cdi` from then on. A value
that is no valid name (a read that prints `--kubeconfig=/x`, two namespaces, nothing) binds
nothing, and the steps that need it say so.

`kubectl get storageclass $(kubectl -n ns get pvc data -o json | jq -r '.spec.storageClassName')`
is the same binding, owned by its step: the inner read runs first (audited, checked by the
policy), its one valid value fills the argument under the step's own key
(`step3_storage_class`), and the outer command runs with it, as a read or a change on the
normal dry-run and approval path. The approval applies the value read at plan time.
"""

from __future__ import annotations

from collections.abc import Callable

from .apiresult import KubeError, Outcome
from .commands import Binding
from .kube import KubeGateway
from .operation import Operation, Refused
from .placeholders import PlaceholderError, flatten_context, validate
from .planner import Plan, PlannedStep

MISSING = frozenset({"null", "<none>"})


class Binder:
    def __init__(self, gateway: KubeGateway, before: Callable[[int, str], None] = lambda step, operation: None):
        self.gateway = gateway
        self.before = before  # audits each read before it is sent
        self.values: dict[str, str] = {}
        self.sources: dict[str, str] = {}
        self.outcomes: dict[int, Outcome] = {}  # set-up reads: the step's own result
        self.problems: list[str] = []
        self.unbound: dict[str, str] = {}  # an inline binding's key -> why it did not bind (said by its step)

    def run(self, plan: Plan, given: dict, analyse: Callable[[dict], Plan]) -> None:
        """Bind, in runbook order, every variable a planned step needs or a planned set-up step sets."""
        planned = {p.number for p in plan.steps}
        wanted = {m for p in plan.steps for m in p.parsed.missing}
        for number in sorted(set(plan.bound_by.values())):
            current = analyse({**given, **self.values})  # a binding may use the ones before it
            step = current.every.get(number)
            if step is None or step.classification not in ("read", "change"):
                continue  # a refused or manual step reads nothing, not even inside an argument
            for binding in step.parsed.binds:
                read = binding.read or (step.parsed.operation if step.classification == "read" else None)
                have = flatten_context({**given, **self.values}).get(binding.key)
                if read is None or binding.source != "read" or have not in (None, "") or \
                        (binding.key not in wanted and number not in planned):
                    continue
                needs = binding.needs if binding.read else step.parsed.missing
                if needs:
                    self._fail(binding, f"step {number} needs {', '.join(needs)} to bind {binding.var}")
                    continue
                self._bind(number, step, binding, read)

    def _fail(self, binding: Binding, why: str) -> None:
        if binding.read is not None:
            self.unbound[binding.key] = why
        else:
            self.problems.append(why)

    def _bind(self, number: int, step: PlannedStep, binding: Binding, read: Operation) -> None:
        self.before(number, read.describe())
        try:
            out = self.gateway.run(read)
        except (KubeError, Refused) as exc:
            self._fail(binding, f"step {number} could not bind {binding.var}: {exc}")
            return
        if binding.read is None:
            self.outcomes[number] = out  # the set-up step shows this read; it is not sent twice
        # `null` (jq) and `<none>` (kubectl's columns) mean the field is missing, not a name: a
        # change must never go to a person as `delete pods/null`.
        values = sorted(set(out.output.split()) - MISSING)
        if len(values) != 1:
            found = ", ".join(values[:3]) + (" ..." if len(values) > 3 else "") if values else "nothing"
            self._fail(binding, f"step {number} read {found} for {binding.var}, not one value; pass {binding.key} "
                                "in context")
            return
        try:
            # validated like any caller's value: a read cannot make a name into a flag or a path
            value = validate(binding.key, values[0])
        except PlaceholderError as exc:
            self._fail(binding, f"step {number} could not bind {binding.var}: {exc}")
            return
        self.values[binding.key] = value
        self.sources[binding.key] = f"step {number}: {(binding.var if binding.read else step.parsed.command)[:160]}"
