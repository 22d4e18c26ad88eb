"""The executor's door to the cluster: a typed operation in, what kubectl would print out.

Reads run (kube_reads.py); changes are dry-run on the server and applied only when asked
(kube_changes.py); a read's filters (grep, jq, ...) apply to its text in-process. Every call
goes through the one client in kube_api.py.
"""

from __future__ import annotations

from . import filters, kube_changes
from .apiresult import KubeError, Outcome
from .kube_api import KubeApi
from .kube_reads import READS
from .operation import FilterError, Operation

__all__ = ["KubeError", "KubeGateway", "Outcome"]


class KubeGateway(KubeApi):
    """One ApiClient for the executor's lifetime; `run` is one typed API operation."""

    def run(self, op: Operation, apply: bool = False) -> Outcome:
        """Run a read, or dry-run a change on the server (and apply it when `apply`); a read's
        filters (grep, jq, ...) apply to its text in-process."""
        resource = self.resolve(op) if op.custom else None
        if resource is not None:
            op = Operation(op.verb, resource.plural, op.name, op.namespace if resource.namespaced else None,
                           op.options, resource.group)
        if op.change:
            return kube_changes.change(self, op, apply and not op.options.get("dry_run_only"), resource)
        stage = f"-o {op.options['output']}" if op.options.get("output") else op.verb
        try:
            out = READS[op.verb](self, op, resource)
            for spec in op.options.get("filters", []):
                stage = spec.get("shown", spec["filter"])
                out.output = filters.apply(spec, out.output)
        except FilterError as exc:  # a template or filter that fails on this output, as kubectl or grep would
            raise KubeError(f"{stage[:80]}: {exc}", 400) from None
        if not out.output and not op.options.get("filters") and op.verb == "get" and not op.name:
            out.output = "No resources found" + (f" in {op.namespace} namespace." if op.namespace else ".")
        return out
