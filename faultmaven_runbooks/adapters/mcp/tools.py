"""A tool whose parameters are a request model's fields: one definition of names, types, limits
and descriptions for the service, the MCP tool and the HTTP route.

The SDK builds a tool's input schema from its function signature, so the function made here
takes the model's fields as keyword parameters (minus the ones this surface leaves out), and
the handler receives the validated request. Model validators (e.g. "exactly one of") run after
the SDK's own per-field checks; their refusal is a tool error that says what to fix.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import BaseModel, Field, ValidationError

from ...api.base import Request, describe

R = TypeVar("R", bound=Request)
Handler = Callable[[Context, R], Awaitable[Any]]


def _parameters(model: type[Request], omit: frozenset[str]) -> list[inspect.Parameter]:
    params = []
    fields = [(n, f) for n, f in model.model_fields.items() if n not in omit]
    # Required fields first: the published schema then reads like the tool's call.
    for name, field in sorted(fields, key=lambda item: not item[1].is_required()):
        hint: Any = Annotated[(field.annotation, *field.metadata, Field(description=field.description))]  # type: ignore[name-defined,unused-ignore]
        default = inspect.Parameter.empty if field.is_required() else field.get_default(call_default_factory=True)
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=hint))
    return params


def request_tool(server: MCPServer, model: type[R], *, title: str, annotations: ToolAnnotations,
                 omit: tuple[str, ...] = (), fixed: dict[str, Any] | None = None, description: str | None = None,
                 output: type[BaseModel] | None = None) -> Callable[[Handler[R]], Handler[R]]:
    """Register `handler(ctx, request)` as the tool named like the handler. `omit` leaves fields
    out of this surface (they take their defaults, or the values in `fixed`). `output`: the model
    the answer's structured content is validated against (the handler returns a CallToolResult)."""
    params = _parameters(model, frozenset(omit) | frozenset(fixed or ()))

    def register(handler: Handler[R]) -> Handler[R]:
        async def tool(ctx: Context, **arguments: Any) -> Any:
            try:
                request = model.model_validate({**arguments, **(fixed or {})})
            except ValidationError as exc:
                raise ToolError(describe(exc.errors(include_url=False), model)) from None
            return await handler(ctx, request)

        returns: Any = Annotated[CallToolResult, output] if output is not None \
            else inspect.signature(handler, eval_str=True).return_annotation
        ctx_param = inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=Context)
        tool.__signature__ = inspect.Signature([ctx_param, *params], return_annotation=returns)  # type: ignore[attr-defined]
        tool.__annotations__ = {"ctx": Context, **{p.name: p.annotation for p in params}, "return": returns}
        tool.__name__ = handler.__name__
        tool.__doc__ = handler.__doc__
        server.tool(title=title, annotations=annotations, description=description)(tool)
        return handler

    return register
