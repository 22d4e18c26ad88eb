"""The MCP server: thin tools over RunbookService, resources, prompts, and the surface an
operator chooses (toolsets, read-only).

Building the server imports no torch, chromadb or model: the handshake must not wait for them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from mcp.server import MCPServer

from ... import __version__
from ...read_only import ReadOnlyService
from ...service import RunbookService
from ..metrics import Metrics
from . import alerts, authoring, execution, learning, prompts, protocol, search
from .calls import install_log_forwarding

log = logging.getLogger(__name__)

TOOLSETS = ("search", "execute", "learning", "authoring", "alerts")

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


def build_server(service: RunbookService, toolsets: frozenset[str] | None = None,
                 read_only: bool = False, metrics: Metrics | None = None) -> MCPServer:
    """The MCP server over `service`; `metrics` counts its tool calls (the HTTP app's /metrics)."""
    surface = Surface(frozenset(toolsets or TOOLSETS), read_only)
    offered: Any = ReadOnlyService(service) if read_only else service
    server = MCPServer(
        "faultmaven-runbooks",
        title="FaultMaven Runbooks",
        version=__version__,
        instructions=INSTRUCTIONS + (READ_ONLY_NOTE if read_only else ""),
        log_level="WARNING",
    )
    search.register(server, offered, surface)
    alerts.register(server, offered, surface)
    if surface.offers("execute"):
        execution.register(server, offered)
    learning.register(server, offered, surface)
    authoring.register(server, offered, surface)
    prompts.register(server, offered, surface)
    protocol.install(server, offered, surface, metrics)
    install_log_forwarding()
    log.debug("MCP surface: toolsets %s%s", ", ".join(sorted(surface.toolsets)), ", read-only" if read_only else "")
    return server
