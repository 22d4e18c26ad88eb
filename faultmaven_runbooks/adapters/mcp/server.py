"""The MCP server: thin tools over RunbookService, resources and prompts.

Building the server imports no torch, chromadb or model: the handshake must not wait for them.
"""

from __future__ import annotations

import logging

from mcp.server import MCPServer

from ... import __version__
from ...service import RunbookService
from . import authoring, execution, learning, search

log = logging.getLogger(__name__)

INSTRUCTIONS = (
    "SRE runbook library. Use `search` (or `suggest_similar` for an alert or case) to find a runbook, "
    "`get_runbook` to read it, and `execute` to run its kubectl steps safely: dry-run first, and changes "
    "need a human's approval. After an incident, `learn` records the outcome and "
    "`create_runbook_from_case` turns a resolved FaultMaven case into a draft runbook."
)



def build_server(service: RunbookService) -> MCPServer:
    server = MCPServer(
        "faultmaven-runbooks",
        title="FaultMaven Runbooks",
        version=__version__,
        instructions=INSTRUCTIONS,
        log_level="WARNING",
    )
    for area in (search, execution, learning, authoring):
        area.register(server, service)
    return server
