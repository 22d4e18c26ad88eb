"""ExecutionService: preview, run, approve, show and list runbook executions.

Per step: pre-check (the operation's first read: does the target exist, may we read it),
execution, result analysis (findings), a decision (continue, or skip what depends on a failure)
and an audit entry. Reads run; changes are dry-run on the server and wait for an approval given
by an authenticated person other than the requester, for this exact plan on this exact cluster.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable

from ..clock import Clock
from ..errors import Conflict, Forbidden, InvalidInput, RunbookError
from ..library.store import RunbookLibrary
from ..models import Runbook
from . import applying
from .approvals import ApprovalExpired, check_approver, check_open, decide, mark_expired, new_approval
from .approvers import Approvers
from .audit import AuditLog
from .bindings import Binder
from .cluster import NoCluster, connect, identity_of
from .derive import DERIVABLE, WORKLOAD_KEYS, Deriver
from .findings import recommend
from .kube import KubeGateway
from .models import (
    ClusterIdentity,
    ExecuteParameters,
    ExecutionList,
    ExecutionResult,
    ExecutionStatus,
    ExecutionSummary,
    Outcome,
    PlanPreview,
)
from .planner import Plan, analyse, plan_hash, select
from .policy import Policy, load_policy
from .records import MAX_PAGE, ExecutionRecords
from .runner import Progress, Runner, RunState, preview_step, settle, summary

log = logging.getLogger(__name__)


class ExecutionService:
    """`store`: the state store (executions, audit log, approvers: shared by every replica);
    `on_finished(runbook_id, success, seconds)`: analytics' count of a finished execution."""

    def __init__(self, settings, store, library: RunbookLibrary, clock: Clock, *,
                 on_finished: Callable[[str, bool, float | None], None] | None = None,
                 kube_configuration=None, policy: Policy | None = None):
        self.settings = settings  # the cluster connection and policy file
        self.library = library
        self.clock = clock
        self.policy = policy or load_policy(getattr(settings, "policy_file", None))
        self.audit = AuditLog(store)
        self.store = ExecutionRecords(store)
        self.approvers = Approvers(store)
        self.runner = Runner(self.policy, self.policy.output_max_chars)
        self._on_finished = on_finished
        self._kube_configuration = kube_configuration  # tests pass Configuration(host=...)
        self._connection: tuple[KubeGateway, ClusterIdentity] | None = None
        self._lock = threading.Lock()
        self._recovered = False  # applies a crash cut short: looked for on first use, not at start-up
        log.info("execution policy in force: %s", self.policy.describe())

    def _now(self) -> str:
        return self.clock().isoformat(timespec="seconds")

    # -- the cluster ---------------------------------------------------------------------------
    def connection(self) -> tuple[KubeGateway, ClusterIdentity]:
        """One ApiClient for the service's life, built on first use. Raises NoCluster."""
        with self._lock:
            if self._connection is None:
                if self._kube_configuration is not None:
                    cfg, identity = self._kube_configuration, identity_of(self._kube_configuration)
                else:
                    cfg, identity = connect(self.settings)
                gateway = KubeGateway(cfg, self.policy.step_timeout_seconds, self.policy.log_tail_max, self.clock,
                                      policy=self.policy)
                self._connection = (gateway, identity)
            return self._connection

    def cluster(self) -> ClusterIdentity | None:
        try:
            return self.connection()[1]
        except NoCluster:
            return None

    def close(self) -> None:
        if self._connection is not None:
            self._connection[0].close()

    # -- plans ---------------------------------------------------------------------------------
    def _plan(self, runbook: Runbook, context: dict | None, params: ExecuteParameters) -> Plan:
        return select(analyse(runbook, context, self.policy), params, runbook)

    @staticmethod
    def _params(parameters) -> ExecuteParameters:
        return parameters if isinstance(parameters, ExecuteParameters) else \
            ExecuteParameters.model_validate(parameters or {})

    def plan(self, runbook_id: str, context: dict | None = None, parameters=None) -> PlanPreview:
        """What execute would run, classified and checked; nothing runs and the cluster is not called."""
        params = self._params(parameters)
        runbook = self.library.get(runbook_id)
        plan = self._plan(runbook, context, params)
        cluster = self.cluster()
        mode = self.policy.effective_mode(params.mode, params.auto_execute)
        derivable = any(plan.flat.get(k) for k in ("pod_name", *WORKLOAD_KEYS.values()))
        steps = [preview_step(p, self.policy, DERIVABLE if derivable else set(), plan.bound_by) for p in plan.steps]
        options, rollbacks = plan.offered()
        preview = PlanPreview(runbook_id=runbook.id, mode=mode, cluster=cluster, steps=steps, options=options,
                              rollbacks=rollbacks, plan_hash=plan_hash(runbook.id, plan.steps, cluster),
                              policy=self.policy.source,
                              approvals_needed=[s.step for s in steps if s.classification == "change"
                                                and s.result == "planned" and mode != "manual"])
        if steps and all(s.result in ("manual", "refused") for s in steps):
            preview.outcome, preview.message = "all_refused", "none of the planned steps can run (see each reason)"
        elif cluster is None:
            preview.message = "no usable cluster configuration: execute would run nothing until one is set"
        return preview

    # -- execute -------------------------------------------------------------------------------
    def execute(self, runbook_id: str, context: dict | None = None, parameters=None,
                requester: str = "mcp-client", progress: Progress | None = None) -> ExecutionResult:
        started = time.monotonic()
        params = self._params(parameters)
        runbook = self.library.get(runbook_id)
        mode = self.policy.effective_mode(params.mode, params.auto_execute)
        plan = self._plan(runbook, context, params)
        gateway: KubeGateway | None
        cluster: ClusterIdentity | None
        try:
            gateway, cluster = self.connection()
            state = RunState(gateway)
        except NoCluster as exc:
            # Manual mode runs nothing, so it needs no cluster; any other mode says why once.
            gateway, cluster, state = None, None, RunState(None, no_cluster=None if mode == "manual" else str(exc))
        given = dict(context or {})
        derived: dict[str, str] = {}
        exec_id = "exec-" + uuid.uuid4().hex[:12]
        if gateway is not None and mode != "manual":
            plan, given, derived = self._bind(runbook, plan, params, given, state, gateway, exec_id, requester)
            plan, given, more = self._derive(runbook, plan, params, given, state, gateway)
            derived.update(more)
        digest = plan_hash(runbook.id, plan.steps, cluster)
        self.audit.record("execute.plan", execution_id=exec_id, runbook_id=runbook.id, requester=requester, mode=mode,
                          dry_run=params.dry_run, plan_hash=digest, cluster=cluster.server if cluster else None,
                          steps=[{"step": p.number, "classification": p.classification, "reason": p.parsed.reason,
                                  "operation": p.parsed.operation.describe() if p.parsed.operation else None}
                                 for p in plan.steps])
        results = self.runner.run(plan.steps, mode, params.dry_run, state, progress)
        for res in results:
            self.audit.record("execute.step", execution_id=exec_id, step=res.step, classification=res.classification,
                              result=res.result, reason=res.reason, requester=requester, plan_hash=digest)
        now = self._now()
        flat_ns = plan.flat.get("namespace")
        options, rollbacks = plan.offered()
        record = ExecutionResult(
            execution_id=exec_id, runbook_id=runbook.id, status="planned", outcome="planned", mode=mode,
            dry_run=params.dry_run, requester=requester, created=now, updated=now, cluster=cluster,
            namespace=flat_ns if isinstance(flat_ns, str) else None, plan_hash=digest, steps=results,
            options=options, rollbacks=rollbacks, policy=self.policy.source, context=given, derived=derived,
            selection=params.selection())
        record.findings = state.analysis.findings()
        commands = {n: p.parsed.command for n, p in plan.every.items()}
        record.recommendations = recommend(record.findings, options, commands)
        auto = [r.step for r in results if r.result == "pending_approval" and mode == "fully-automated"
                and r.risk == "low"]
        pending = [r.step for r in results if r.result == "pending_approval" and r.step not in auto]
        if pending:
            record.approval = new_approval(exec_id, digest, requester, pending, self.policy.approval_ttl_seconds,
                                           self.clock(), self.approvers.count() > 0)
        settle(record, mode, state)
        if auto:
            return self._auto_apply(record, plan, auto, started)
        self.store.add(record)
        self.audit.record("execute.finish", execution_id=exec_id, runbook_id=runbook.id, requester=requester,
                          status=record.status, plan_hash=digest, summary=summary(record))
        self._count(record, time.monotonic() - started)
        return record

    def _bind(self, runbook: Runbook, plan: Plan, params: ExecuteParameters, given: dict, state: RunState,
              gateway: KubeGateway, exec_id: str, requester: str) -> tuple[Plan, dict, dict[str, str]]:
        """Set-up lines: run their reads and bind the values the later steps need (bindings.py);
        each read is audited before it is sent, like every step."""
        if not plan.bound_by:
            return plan, given, {}

        def audit(step: int, operation: str) -> None:
            self.audit.record("execute.bind", execution_id=exec_id, runbook_id=runbook.id, requester=requester,
                              step=step, operation=operation)

        binder = Binder(gateway, audit)
        binder.run(plan, given, lambda ctx: analyse(runbook, ctx, self.policy))
        state.prefetched, state.problems = binder.outcomes, state.problems + binder.problems
        state.unbound = binder.unbound
        if not binder.values:
            return plan, given, {}
        given = {**given, **binder.values}
        return self._plan(runbook, given, params), given, dict(binder.sources)

    def _derive(self, runbook: Runbook, plan: Plan, params: ExecuteParameters, given: dict, state: RunState,
                gateway: KubeGateway) -> tuple[Plan, dict, dict[str, str]]:
        # only steps that could run are worth reading the cluster for
        missing = {m for p in plan.steps if p.classification in ("read", "change") for m in p.parsed.missing}
        if not missing:
            return plan, given, {}
        deriver = Deriver(gateway, self.policy, plan.flat.get("namespace"))
        deriver.derive(plan.flat, missing)
        state.problems = state.problems + deriver.problems
        found = {k: v for k, v in deriver.values.items() if k in missing}  # only what the plan lacks
        if not found:
            return plan, given, {}
        given = {**given, **found}
        return self._plan(runbook, given, params), given, {k: deriver.sources[k] for k in found}

    def _auto_apply(self, record: ExecutionResult, plan: Plan, auto: list[int], started: float) -> ExecutionResult:
        """Fully-automated mode: the policy's low-risk changes apply without an approval, crash-safe."""
        waiting, record.approval = record.approval, None
        who = {"execution_id": record.execution_id, "runbook_id": record.runbook_id,
               "requester": record.requester, "approver": "policy:fully-automated", "plan_hash": record.plan_hash}
        record = applying.start(self.store, record, self._now())
        applying.audit_applying(self.audit, record, auto)
        ok = applying.send(self.store, self.audit, self.runner, self.connection()[0], record, plan.every, auto, who)
        record.approval = waiting
        status: ExecutionStatus
        outcome: Outcome
        if waiting is not None:
            status, outcome, message = "awaiting_approval", "needs_approval", record.message
        else:
            status, outcome = ("completed", "ok") if ok else ("failed", "failed")
            message = None if ok else "a change failed (see its reason)"
        record = applying.finish(self.store, self.audit, record, status, self._now(), outcome, message, who)
        self._count(record, time.monotonic() - started)
        return record

    def _count(self, record: ExecutionResult, seconds: float | None) -> None:
        """Finished executions feed the runbook's analytics; one awaiting approval is not finished."""
        if self._on_finished is not None and record.status in ("completed", "dry_run_completed", "failed"):
            self._on_finished(record.runbook_id, record.status != "failed", seconds)

    # -- approvals -----------------------------------------------------------------------------
    def approve(self, execution_id: str, approver: str, decision: str = "approve", reason: str | None = None,
                via: str = "cli") -> ExecutionResult:
        """A person's decision. `approver` is an authenticated identity (an approver credential's
        name, or the local user of a trusted stdio client), never a name the caller typed."""
        if decision not in ("approve", "reject"):
            raise InvalidInput("decision must be 'approve' or 'reject'")
        record = self.store.get(execution_id)
        if record.status == "applying":
            self._recover()
            record = self.store.get(execution_id)
        base = dict(execution_id=execution_id, runbook_id=record.runbook_id, requester=record.requester,
                    approver=approver, via=via, plan_hash=record.plan_hash,
                    cluster=record.cluster.server if record.cluster else None)
        try:
            check_open(record, self.clock())
            # Rejecting sends nothing, so only an approval needs this cluster and this exact plan.
            plan = self._check(record, approver) if decision == "approve" else None
        except RunbookError as exc:
            self.audit.record("approval.refused", **base, decision=decision, reason=str(exc))
            if isinstance(exc, ApprovalExpired):
                self._expire(record)
            raise
        return self._decide(record, plan, approver, reason, via, base)

    def _check(self, record: ExecutionResult, approver: str) -> Plan:
        runbook = self.library.get(record.runbook_id)
        params = ExecuteParameters(dry_run=False, **record.selection)
        try:
            current = self.connection()[1]
        except NoCluster as exc:
            raise Forbidden(f"cannot apply: {exc}") from None
        if record.cluster is not None and current != record.cluster:
            # A plan approved through another connection would change a cluster nobody reviewed.
            raise Forbidden(f"execution {record.execution_id} was planned on {record.cluster.describe()}, but this "
                            f"process connects to {current.describe()}; approve it through the server that planned it "
                            "(faultmaven-runbooks approve --server URL), or run the runbook again on this cluster")
        plan = self._plan(runbook, record.context, params)
        check_approver(record, approver=approver, plan_hash=plan_hash(runbook.id, plan.steps, current))
        return plan

    def _expire(self, record: ExecutionResult) -> None:
        try:
            self.store.transition(record.execution_id, "awaiting_approval", lambda rec: mark_expired(rec, self._now()))
            self.audit.record("approval.expired", execution_id=record.execution_id, plan_hash=record.plan_hash)
        except Conflict:
            pass

    def _decide(self, record: ExecutionResult, plan: Plan | None, approver: str, reason: str | None, via: str,
                base: dict) -> ExecutionResult:
        """`plan`: the checked plan an approval applies; None for a rejection."""
        approve = plan is not None
        changes = list(record.approval.changes) if record.approval else []
        record = applying.decide(self.store, record, self._now(), lambda rec: decide(
            rec, approver=approver, approve=approve, via=via, reason=reason, now=self.clock()))
        self.audit.record("approval." + ("approved" if approve else "rejected"), **base, reason=reason)
        if plan is None:
            self.audit.record("execute.finish", **base, status=record.status, summary=summary(record))
            return record
        applying.audit_applying(self.audit, record, changes)
        ok = applying.send(self.store, self.audit, self.runner, self.connection()[0], record, plan.every, changes, base)
        # the first change that did not apply: failed, refused (discovery named a denied group) or interrupted
        stopped = next((s for s in record.steps if s.step in changes and s.result != "success"), None)
        message = f"approved by {approver}; applied step(s) {changes}" if ok or stopped is None else \
            f"step {stopped.step} {stopped.result}: {stopped.reason}"
        record = applying.finish(self.store, self.audit, record, "completed" if ok else "failed", self._now(),
                                 "ok" if ok else "failed", message, base)
        self._count(record, None)
        return record

    def _recover(self) -> list[str]:
        done = applying.recover(self.store, self.audit, self._now())
        for execution_id in done:
            log.warning("execution %s was interrupted while applying; marked interrupted", execution_id)
        self._recovered = True
        return done

    def recover_once(self) -> None:
        """After a start, applies a killed process left `applying` become `interrupted` (and are
        never re-sent): at start-up in the background, or before anyone reads the list."""
        if not self._recovered:
            self._recover()

    # -- history -------------------------------------------------------------------------------
    def list_executions(self, limit: int = 10, runbook_id: str | None = None, status: str | None = None,
                        cursor: str | None = None) -> ExecutionList:
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}")
        self.recover_once()
        page, next_cursor = self.store.page(limit, cursor, runbook_id, status)
        rows = [ExecutionSummary(steps=len(r.steps), summary=summary(r),
                                 **r.model_dump(include=set(ExecutionSummary.model_fields) - {"steps", "summary"}))
                for r in page]
        return ExecutionList(executions=rows, next_cursor=next_cursor)

    def get(self, execution_id: str) -> ExecutionResult:
        record = self.store.get(execution_id)
        if record.status == "applying":
            # Read again whatever this recovery did: the start-up recovery (open_state) may have
            # just marked it interrupted, and this one then had nothing left to do.
            self._recover()
            record = self.store.get(execution_id)
        return record
