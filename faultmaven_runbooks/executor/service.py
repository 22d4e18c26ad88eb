"""ExecutionService: plan, run, approve and list runbook executions.

Per step: pre-check (the operation's first read: does the target exist, may we read it),
execution, result analysis (findings), a decision (continue / stop / recommend) and an
audit entry. Reads run; changes are dry-run on the server and wait for an approval given
by someone other than the requester. A failed step stops every change after it.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from ..errors import Conflict, InvalidInput, RunbookError
from . import summaries
from .audit import AuditLog
from .kube import KubeError, KubeGateway, build_configuration
from .models import ExecuteParameters, ExecutionList, ExecutionResult, StepResult
from .planner import PlannedStep, build_plan, plan_hash
from .policy import Policy, decide, is_expired, iso, load_policy, new_approval, now
from .records import ExecutionStore
from .redact import redact_text, trim

log = logging.getLogger(__name__)
Progress = Callable[[float, float, str], None]


class ExecutionService:
    def __init__(self, settings, service, *, kube_configuration=None, policy: Policy | None = None):
        self.settings = settings
        self.service = service
        self.policy = policy or load_policy(getattr(settings, "policy_file", None))
        data = Path(settings.data_dir)
        self.audit = AuditLog(data / "audit" / "executions.jsonl")
        self.store = ExecutionStore(data / "executions")
        self._kube_configuration = kube_configuration  # tests pass Configuration(host=...)
        self._gateway: KubeGateway | None = None
        self._lock = threading.Lock()
        log.info("execution policy in force: %s", self.policy.describe())

    # -- plumbing ----------------------------------------------------------------------------
    @property
    def gateway(self) -> KubeGateway:
        """One ApiClient for the service's life, built on first use (plans need no cluster)."""
        with self._lock:
            if self._gateway is None:
                cfg = self._kube_configuration or build_configuration(self.settings)
                self._gateway = KubeGateway(cfg, self.policy.step_timeout_seconds, self.policy.log_tail_max)
            return self._gateway

    def close(self) -> None:
        if self._gateway is not None:
            self._gateway.close()

    def _output(self, text: str) -> str:
        return trim(redact_text(text), self.policy.output_max_chars)

    # -- execute -----------------------------------------------------------------------------
    def execute(self, runbook_id: str, context: dict | None = None, parameters: ExecuteParameters | dict | None = None,
                requester: str = "mcp-client", progress: Progress | None = None) -> ExecutionResult:
        started = time.monotonic()
        params = parameters if isinstance(parameters, ExecuteParameters) else ExecuteParameters.model_validate(parameters or {})
        runbook = self.service.library.get(runbook_id)
        mode = self.policy.effective_mode(params.mode, params.auto_execute)
        plan, flat = build_plan(runbook, context, self.policy, params.steps)
        digest = plan_hash(runbook.id, plan)
        exec_id = "exec-" + uuid.uuid4().hex[:12]
        self.audit.record("execute.plan", execution_id=exec_id, runbook_id=runbook.id, requester=requester, mode=mode,
                          dry_run=params.dry_run, plan_hash=digest,
                          steps=[{"step": p.number, "classification": p.classification, "reason": p.parsed.reason,
                                  "operation": p.parsed.operation.describe() if p.parsed.operation else None}
                                 for p in plan])
        results, recs, failed = [], [], False
        for i, p in enumerate(plan):
            if progress:
                progress(i, len(plan), f"step {p.number}: {p.description or p.parsed.command}"[:200])
            res = self._run_step(p, mode, params.dry_run, failed, recs)
            failed = failed or res.result == "failed"
            results.append(res)
            self.audit.record("execute.step", execution_id=exec_id, step=p.number, classification=res.classification,
                              result=res.result, reason=res.reason, requester=requester, plan_hash=digest)
        if progress:
            progress(len(plan), len(plan), "done")
        t = iso(now())
        record = ExecutionResult(
            execution_id=exec_id, runbook_id=runbook.id, status="planned", mode=mode, dry_run=params.dry_run,
            requester=requester, created=t, updated=t, namespace=flat.get("namespace") if isinstance(flat.get("namespace"), str) else None,
            plan_hash=digest, steps=results, policy=self.policy.source, context=context or {},
            selected_steps=params.steps)
        pending = [r.step for r in results if r.result == "pending_approval"]
        if pending:
            record.approval = new_approval(exec_id, digest, requester, pending, self.policy.approval_ttl_seconds)
            recs.append(f"{len(pending)} change(s) wait for approval: {record.approval.how}")
        elif params.dry_run and any(r.result == "dry_run" for r in results):
            recs.append("Changes were only dry-run; call execute with dry_run=false (and optionally steps=[...]) "
                        "to request approval for them")
        record.status = self._status(record, mode)
        record.recommendations = list(dict.fromkeys(recs))[:20]
        record.summary = dict(Counter(r.result for r in results))
        self.store.save(record)
        self.audit.record("execute.finish", execution_id=exec_id, runbook_id=runbook.id, requester=requester,
                          status=record.status, plan_hash=digest, summary=record.summary)
        self._count(record, time.monotonic() - started)
        return record

    def _count(self, record: ExecutionResult, seconds: float | None) -> None:
        """Finished executions feed the runbook's analytics; one awaiting approval is not finished."""
        analytics = getattr(self.service, "analytics", None)  # absent when run on a bare library
        if analytics is not None and record.status in ("completed", "dry_run_completed", "failed"):
            analytics.record_execution(record.runbook_id, record.status != "failed", seconds)

    def _run_step(self, p: PlannedStep, mode: str, dry_run: bool, failed_before: bool, recs: list[str]) -> StepResult:
        ps, op = p.parsed, p.parsed.operation
        res = StepResult(step=p.number, description=p.description, command=ps.command,
                         classification=ps.classification, operation=op.describe() if op else None,
                         result="planned", reason=ps.reason, dry_run=True)
        if ps.classification in ("manual", "refused"):
            res.result, res.decision = ps.classification, "recommend"
            if ps.classification == "manual":
                recs.append(f"Step {p.number} is for a human: {ps.reason}")
            return res
        if op.change:
            res.risk = "low" if self.policy.is_low_risk(op) else "high"
        if ps.missing:
            res.result = "skipped"
            res.reason = f"needs context value(s) {', '.join(ps.missing)}; pass them in `context`"
            return res
        if mode == "manual":
            return res
        if op.change and failed_before:
            res.result, res.decision = "skipped", "stop"
            res.reason = "an earlier step failed; changes after a failed step do not run"
            return res
        apply_now = op.change and not dry_run and mode == "fully-automated" and res.risk == "low"
        try:
            out = self.gateway.run(op, apply=apply_now)
        except KubeError as exc:
            res.result, res.reason, res.decision = "failed", str(exc), "stop"
            return res
        res.output, res.diff = self._output(out.output), out.diff and self._output(out.diff)
        for kind, obj in out.objects[:50]:
            recs.extend(summaries.findings(kind, obj))
        if not op.change:
            res.result, res.dry_run = "success", False
        elif apply_now:
            res.result, res.dry_run = "success", False
        else:
            res.result = "dry_run" if dry_run or op.options.get("dry_run_only") else "pending_approval"
        return res

    @staticmethod
    def _status(record: ExecutionResult, mode: str) -> str:
        results = {s.result for s in record.steps}
        if record.approval is not None:
            return "awaiting_approval"
        if mode == "manual":
            return "planned"
        if "failed" in results:
            return "failed"
        return "dry_run_completed" if "dry_run" in results else "completed"

    # -- approvals ---------------------------------------------------------------------------
    def approve(self, execution_id: str, approver: str, decision: str = "approve", reason: str | None = None) -> ExecutionResult:
        if decision not in ("approve", "reject"):
            raise InvalidInput("decision must be 'approve' or 'reject'")
        lock = self.store.root / f".{execution_id}.lock"
        self.store.get(execution_id)  # validates the id (and that it exists) before it names a lock file
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            # Two approvers at once would apply the same changes twice.
            raise Conflict(f"execution {execution_id} is being decided right now; try again shortly") from None
        os.close(fd)
        try:
            return self._decide(self.store.get(execution_id), approver, decision, reason)
        finally:
            lock.unlink(missing_ok=True)

    def _decide(self, record: ExecutionResult, approver: str, decision: str, reason: str | None) -> ExecutionResult:
        if record.approval is None or record.status != "awaiting_approval":
            raise Conflict(f"execution {record.execution_id} is {record.status}; it has nothing waiting for approval")
        runbook = self.service.library.get(record.runbook_id)
        plan, _ = build_plan(runbook, record.context, self.policy, record.selected_steps)
        current = plan_hash(runbook.id, plan)
        base = dict(execution_id=record.execution_id, runbook_id=record.runbook_id, requester=record.requester,
                    approver=approver, plan_hash=record.plan_hash)
        try:
            decide(record.approval, approver=approver, approve=decision == "approve", plan_hash=current, reason=reason)
        except RunbookError as exc:
            self.audit.record("approval.refused", **base, decision=decision, reason=str(exc))
            if is_expired(record.approval):
                record.approval.status, record.status, record.updated = "expired", "expired", iso(now())
                self.store.save(record)
            raise
        self.audit.record("approval." + ("approved" if decision == "approve" else "rejected"), **base, reason=reason)
        by_number = {p.number: p for p in plan}
        failed = False
        for res in record.steps:
            if res.result != "pending_approval":
                continue
            if decision == "reject":
                res.result, res.reason = "rejected", f"rejected by {approver}" + (f": {reason}" if reason else "")
                continue
            if failed:
                res.result, res.decision, res.reason = "skipped", "stop", "an earlier change failed; not applied"
                continue
            try:
                out = self.gateway.run(by_number[res.step].parsed.operation, apply=True)
                res.result, res.dry_run, res.output = "success", False, self._output(out.output)
                res.diff = out.diff and self._output(out.diff)
            except KubeError as exc:
                res.result, res.reason, res.decision, failed = "failed", str(exc), "stop", True
            self.audit.record("execute.apply", **base, step=res.step, result=res.result, reason=res.reason)
        record.status = "rejected" if decision == "reject" else ("failed" if failed else "completed")
        record.updated = iso(now())
        record.summary = dict(Counter(r.result for r in record.steps))
        self.store.save(record)
        self.audit.record("execute.finish", **base, status=record.status, summary=record.summary)
        self._count(record, None)
        return record

    # -- history -----------------------------------------------------------------------------
    def list_executions(self, limit: int = 10, runbook_id: str | None = None, status: str | None = None) -> ExecutionList:
        if not 1 <= limit <= 500:
            raise InvalidInput("limit must be between 1 and 500")
        items, total = self.store.list(limit, runbook_id, status)
        return ExecutionList(executions=items, total=total)

    def get(self, execution_id: str) -> ExecutionResult:
        return self.store.get(execution_id)
