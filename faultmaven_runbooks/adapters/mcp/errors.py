"""MCP tools, one module per area; each exposes register(server, service)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

from mcp.server.mcpserver.exceptions import ToolError

from ...errors import RunbookError

T = TypeVar("T", bound=Callable)


def domain_errors(fn: T) -> T:
    """Turn domain errors into ToolErrors, whose text (unlike other exceptions') reaches the model."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except RunbookError as exc:
            raise ToolError(str(exc)) from exc

    return wrapper  # type: ignore[return-value]
