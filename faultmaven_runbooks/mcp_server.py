"""The MCP server: thin tools over RunbookService, resources and prompts.

Building the server imports no torch, chromadb or model: the handshake must not wait for them.
"""

from __future__ import annotations

import importlib
import logging

from mcp.server import MCPServer

from . import __version__
from .service import RunbookService

log = logging.getLogger(__name__)

INSTRUCTIONS = (
    "SRE runbook library. Use `search` (or `suggest_similar` for an alert or case) to find a runbook, "
    "`get_runbook` to read it, and `execute` to run its kubectl steps safely: dry-run first, and changes "
    "need a human's approval. After an incident, `learn` records the outcome and "
    "`create_runbook_from_case` turns a resolved FaultMaven case into a draft runbook."
)

# Feature areas register their own tools; an area not present in this build is skipped.
TOOL_AREAS = ("search", "execution", "learning", "authoring")


def build_server(service: RunbookService) -> MCPServer:
    server = MCPServer(
        "faultmaven-runbooks",
        title="FaultMaven Runbooks",
        version=__version__,
        instructions=INSTRUCTIONS,
        log_level="WARNING",
    )
    for area in TOOL_AREAS:
        try:
            module = importlib.import_module(f".tools.{area}", __package__)
        except ModuleNotFoundError as exc:
            if exc.name != f"{__package__}.tools.{area}":
                raise
            continue
        module.register(server, service)
    return server
