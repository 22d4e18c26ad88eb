"""The MCP server: thin tools over RunbookService, resources, prompts, and the surface an
operator chooses (toolsets, read-only).

Building the server imports no torch, chromadb or model: the handshake must not wait for them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from mcp.server import MCPServer

from ... import __version__
from ...errors import Forbidden
from ...executor.models import ExecuteParameters
from ...service import RunbookService
from . import authoring, execution, learning, prompts, protocol, search
from .calls import install_log_forwarding

log = logging.getLogger(__name__)

TOOLSETS = ("search", "execute", "learning", "authoring")

INSTRUCTIONS = (
    "SRE runbook library. `search` (or `suggest_similar` for an alert or FaultMaven case) finds runbooks, "
    "`get_runbook` reads one, `execute` runs its kubectl steps safely (reads run, changes are dry-run and need "
    "a person's approval). After an incident, `learn` records the outcome and `create_runbook_from_case` turns "
    "a resolved case into a draft runbook. Lists are paged: pass next_cursor back to continue."
)
READ_ONLY_NOTE = " This server is read-only: nothing is written, and `execute` only plans and dry-runs."


@dataclass
class Surface:
    """Which tools this server offers: toolsets the operator chose, minus writes when read-only."""

    toolsets: frozenset[str] = frozenset(TOOLSETS)
    read_only: bool = False
    schema_rules: dict[str, dict] = field(default_factory=dict)  # tool -> extra input-schema keywords

    def offers(self, toolset: str, writes: bool = False) -> bool:
        return toolset in self.toolsets and not (writes and self.read_only)


def parse_toolsets(text: str | None) -> frozenset[str]:
    """'search,execute' -> the toolsets; an unknown name is refused with the known ones."""
    if text is None:
        return frozenset(TOOLSETS)
    names = {n.strip() for n in text.split(",") if n.strip()}
    unknown = names - set(TOOLSETS)
    if unknown or not names:
        raise ValueError(f"unknown toolset(s) {', '.join(sorted(unknown)) or '(none given)'}; "
                         f"choose from {', '.join(TOOLSETS)}")
    return frozenset(names)


class PlanOnlyExecutions:
    """`execute` on a read-only server: plans and server-side dry runs, and no path to apply."""

    def __init__(self, executions):
        self._executions = executions

    def __getattr__(self, name: str):
        return getattr(self._executions, name)

    def execute(self, runbook_id, context=None, parameters=None, **kwargs):
        params = parameters if isinstance(parameters, ExecuteParameters) \
            else ExecuteParameters.model_validate(parameters or {})
        # dry_run forces every change to the server's dry run; nothing waits for an approval.
        params = params.model_copy(update={"dry_run": True, "auto_execute": False})
        return self._executions.execute(runbook_id, context, params, **kwargs)

    def approve(self, *args, **kwargs):
        raise Forbidden("this server runs --read-only: changes are never applied here; approve and apply "
                        "through a server without --read-only")


class _ReadOnlyService:
    """The service as the execute tool sees it on a read-only server."""

    def __init__(self, service: RunbookService):
        self._service = service
        self.executions = PlanOnlyExecutions(service.executions)

    def __getattr__(self, name: str):
        return getattr(self._service, name)


def build_server(service: RunbookService, toolsets: frozenset[str] | None = None,
                 read_only: bool = False) -> MCPServer:
    surface = Surface(frozenset(toolsets or TOOLSETS), read_only)
    server = MCPServer(
        "faultmaven-runbooks",
        title="FaultMaven Runbooks",
        version=__version__,
        instructions=INSTRUCTIONS + (READ_ONLY_NOTE if read_only else ""),
        log_level="WARNING",
    )
    search.register(server, service, surface)
    if surface.offers("execute"):
        execution.register(server, _ReadOnlyService(service) if read_only else service)
    learning.register(server, service, surface)
    authoring.register(server, service, surface)
    prompts.register(server, service, surface)
    protocol.install(server, service, surface)
    install_log_forwarding()
    log.debug("MCP surface: toolsets %s%s", ", ".join(sorted(surface.toolsets)), ", read-only" if read_only else "")
    return server
