"""The service as a `serve --read-only` server offers it, over MCP and HTTP alike: searches,
reads, plans and server-side dry runs; every write is refused and nothing is ever applied."""

from __future__ import annotations

from typing import Any

from .api.executions import ExecuteRequest
from .errors import Forbidden
from .executor.models import ExecuteParameters

REFUSAL = ("this server runs --read-only: it writes nothing and never applies a change; use a server "
           "without --read-only for that")
# The service's use cases that write: runbooks, learned data, backups, and approvals.
WRITES = frozenset({"create_runbook", "update_runbook", "runbook_from_case", "learn", "backup", "decide"})


def _refuse(*args: Any, **kwargs: Any) -> Any:
    raise Forbidden(REFUSAL)


class PlanOnlyExecutions:
    """The executor on a read-only server: plans and dry runs, and no path to apply."""

    def __init__(self, executions: Any):
        self._executions = executions

    def __getattr__(self, name: str) -> Any:
        return getattr(self._executions, name)

    def execute(self, runbook_id: str, context: dict | None = None, parameters: Any = None, **kwargs: Any) -> Any:
        params = parameters if isinstance(parameters, ExecuteParameters) \
            else ExecuteParameters.model_validate(parameters or {})
        # dry_run forces every change to the server's dry run; nothing waits for an approval.
        params = params.model_copy(update={"dry_run": True, "auto_execute": False})
        return self._executions.execute(runbook_id, context, params, **kwargs)

    approve = staticmethod(_refuse)


class ReadOnlyService:
    """Wraps RunbookService: reads pass through, writes raise Forbidden, execute only dry-runs."""

    read_only = True

    def __init__(self, service: Any):
        self._service = service
        self.executions = PlanOnlyExecutions(service.executions)

    def __getattr__(self, name: str) -> Any:
        if name in WRITES:
            return _refuse
        return getattr(self._service, name)

    def execute(self, request: ExecuteRequest, progress: Any = None) -> Any:
        params = (request.parameters or ExecuteParameters()).model_copy(update={"dry_run": True,
                                                                                "auto_execute": False})
        return self._service.execute(request.model_copy(update={"parameters": params}), progress=progress)
