"""The MCP surface around the tools: logging, completions, paged resources, exact error codes,
and a compact tools/list.

MCPServer answers these generically; here they get what clients expect of this server:
- `logging/setLevel` (declares the logging capability); tool calls forward logs (calls.py).
- `completion/complete` for runbook ids, a runbook's sections and prompt argument values.
- `resources/list` lists the runbooks themselves, a page at a time, with a cursor.
- An unknown prompt, a missing or wrong prompt argument: -32602 naming what is allowed (the
  SDK answers code 0); an unknown resource: -32002 (the SDK answers -32602 or -32603).
- A compact tools/list: clients put it into the model's context on every turn. Descriptions
  on one line; input schemas without pydantic's per-field titles, with `$ref`s inlined (some
  clients drop tools whose schemas use them) and optional fields as their plain type; and no
  output schemas, which were half of the listing even compacted: every answer still carries
  its structured content, validated against the tool's model here.
"""

from __future__ import annotations

import time
from typing import Any

import anyio.to_thread
from mcp.server import MCPServer
from mcp.server.context import ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp.types import (
    INVALID_PARAMS,
    CallToolRequestParams,
    Completion,
    EmptyResult,
    GetPromptRequestParams,
    ListResourcesResult,
    ListToolsResult,
    PaginatedRequestParams,
    PromptReference,
    ReadResourceRequestParams,
    Resource,
    ResourceTemplateReference,
    SetLevelRequestParams,
)

from ...errors import RunbookError
from ...paging import page
from ..metrics import Metrics, runbooks_of
from .calls import LEVEL_KEY, connection_state
from .prompts import CHOICES
from .search import RESOURCE_NOT_FOUND

RESOURCE_PAGE = 50
MAX_COMPLETIONS = 100  # the most a completion answer may carry


def install(server: MCPServer, service, surface, metrics: Metrics | None = None) -> None:
    low = server._lowlevel_server  # MCPServer offers no public hook for these request handlers
    library = service.library
    if metrics is not None:
        _count_tool_calls(server, metrics)

    async def set_level(ctx: ServerRequestContext, params: SetLevelRequestParams) -> EmptyResult:
        connection_state(ctx.session)[LEVEL_KEY] = params.level
        return EmptyResult()

    low.add_request_handler("logging/setLevel", SetLevelRequestParams, set_level)

    async def list_tools(ctx: ServerRequestContext, params: PaginatedRequestParams) -> ListToolsResult:
        tools = await server.list_tools()
        return ListToolsResult(tools=[t.model_copy(update={
            "description": " ".join((t.description or "").split()),
            "input_schema": {**compact_schema(t.input_schema), **surface.schema_rules.get(t.name, {})},
            "output_schema": None}) for t in tools])

    low.add_request_handler("tools/list", PaginatedRequestParams, list_tools)

    if surface.offers("search"):
        def runbook_page(cursor: str | None) -> ListResourcesResult:
            runbooks = sorted((rb for _, rb in library.scan().values()), key=lambda rb: rb.id)
            try:
                shown, next_cursor = page(runbooks, lambda rb: rb.id, "resources", cursor, RESOURCE_PAGE)
            except RunbookError as exc:
                raise MCPError(INVALID_PARAMS, str(exc)) from None
            return ListResourcesResult(next_cursor=next_cursor, resources=[Resource(
                uri=f"runbook://{rb.id}", name=rb.id, title=rb.title, description=rb.summary[:200] or rb.title,
                mime_type="text/markdown") for rb in shown])

        async def list_resources(ctx: ServerRequestContext, params: PaginatedRequestParams) -> ListResourcesResult:
            return await anyio.to_thread.run_sync(runbook_page, params.cursor)

        low.add_request_handler("resources/list", PaginatedRequestParams, list_resources)

        read = _handler(low, "resources/read")

        async def read_resource(ctx: ServerRequestContext, params: ReadResourceRequestParams):
            if not str(params.uri).startswith("runbook://"):
                raise MCPError(RESOURCE_NOT_FOUND, f"no resource {params.uri}; runbooks are runbook://<id> "
                               "(see resources/list)", data={"uri": str(params.uri)})
            return await read(ctx, params)

        low.add_request_handler("resources/read", ReadResourceRequestParams, read_resource)

    get = _handler(low, "prompts/get")

    async def get_prompt(ctx: ServerRequestContext, params: GetPromptRequestParams):
        prompts = {p.name: p for p in await server.list_prompts()}
        prompt = prompts.get(params.name)
        if prompt is None:
            raise MCPError(INVALID_PARAMS, f"unknown prompt {params.name!r}; prompts: {', '.join(sorted(prompts))}",
                           data={"prompts": sorted(prompts)})
        args = params.arguments or {}
        takes = [a.name for a in prompt.arguments or []]
        missing = [a.name for a in prompt.arguments or [] if a.required and not args.get(a.name)]
        unknown = sorted(set(args) - set(takes))
        if missing or unknown:
            raise MCPError(INVALID_PARAMS, f"prompt {params.name!r} takes {', '.join(takes) or 'no arguments'}"
                           + (f"; missing: {', '.join(missing)}" if missing else "")
                           + (f"; unknown: {', '.join(unknown)}" if unknown else ""), data={"arguments": takes})
        for name, allowed in CHOICES.get(params.name, {}).items():
            if name in args and args[name] not in allowed:
                raise MCPError(INVALID_PARAMS, f"{name} must be one of {', '.join(allowed)}, got {args[name]!r}",
                               data={"argument": name, "allowed": list(allowed)})
        return await get(ctx, params)

    low.add_request_handler("prompts/get", GetPromptRequestParams, get_prompt)

    @server.completion()
    async def complete(ref, argument, context) -> Completion:
        given = (context.arguments if context else None) or {}
        values = await anyio.to_thread.run_sync(_suggestions, library, ref, argument.name, argument.value, given)
        return Completion(values=values[:MAX_COMPLETIONS], total=len(values), has_more=len(values) > MAX_COMPLETIONS)


def _handler(low: Any, method: str) -> Any:
    """The SDK's own handler of a request, to wrap."""
    entry = low.get_request_handler(method)
    assert entry is not None, f"the MCP SDK registers no {method} handler"
    return entry.handler


def _count_tool_calls(server: MCPServer, metrics: Metrics) -> None:
    """Every tools/call, on every transport, by tool and outcome; and what it says about runbooks."""
    low = server._lowlevel_server
    call = _handler(low, "tools/call")
    known: set[str] = set()

    async def counted(ctx: ServerRequestContext, params: CallToolRequestParams):
        started = time.perf_counter()
        outcome = "error"
        if not known:
            known.update(t.name for t in await server.list_tools())
        try:
            result = await call(ctx, params)
            outcome = "error" if getattr(result, "is_error", False) else "ok"
            kind, runbook_ids = runbooks_of(params.name, getattr(result, "structured_content", None))
            if outcome == "ok" and kind == "found":
                metrics.found(f"mcp:{params.name}", runbook_ids)
            elif kind == "read":
                metrics.runbook_reads.labels(runbook_id=runbook_ids[0]).inc()
            elif kind.startswith("ran:"):
                metrics.ran("mcp", runbook_ids[0], kind[4:])
            return result
        finally:
            # Unknown tool names are one label, so a client cannot grow the series without bound.
            tool = params.name if params.name in known else "unknown"
            metrics.tool_calls.labels(tool=tool, outcome=outcome).inc()
            metrics.tool_latency.labels(tool=tool).observe(time.perf_counter() - started)

    low.add_request_handler("tools/call", CallToolRequestParams, counted)


def _matching(candidates: list[str], typed: str) -> list[str]:
    """Prefix matches first, then the ones that contain what was typed (any case)."""
    typed = typed.strip().lower()
    starts = [c for c in candidates if c.lower().startswith(typed)]
    return starts + [c for c in candidates if typed in c.lower() and c not in starts]


def _suggestions(library, ref, name: str, typed: str, given: dict[str, str]) -> list[str]:
    if isinstance(ref, PromptReference) and name in CHOICES.get(ref.name, {}):
        return _matching(list(CHOICES[ref.name][name]), typed)
    wants_id = (isinstance(ref, ResourceTemplateReference) and ref.uri == "runbook://{runbook_id}"
                or isinstance(ref, PromptReference) and ref.name == "use_runbook") and name == "runbook_id"
    if wants_id:
        return _matching(sorted(rb.id for _, rb in library.scan().values()), typed)
    if isinstance(ref, PromptReference) and ref.name == "use_runbook" and name == "section" and given.get("runbook_id"):
        try:
            rb = library.find(given["runbook_id"])
        except RunbookError:
            return []
        return _matching(list(dict.fromkeys(" > ".join(s.path) for s in rb.sections if s.path)), typed)
    return []


def _optional(node: dict) -> dict | None:
    """`X | None = None` as pydantic writes it: {"anyOf": [X, ..., {"type": "null"}], "default": null}."""
    branches = node.get("anyOf")
    if not (isinstance(branches, list) and "default" in node and node["default"] is None):
        return None
    kept = [b for b in branches if b != {"type": "null"}]
    if not kept or len(kept) == len(branches):
        return None
    rest = {k: v for k, v in node.items() if k not in ("anyOf", "default")}
    return {**kept[0], **rest} if len(kept) == 1 else {"anyOf": kept, **rest}


def compact_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The same schema, smaller: no pydantic per-field "title", no `additionalProperties: true` (the
    default), no "type" beside an enum of strings, `$ref`s inlined, and an optional field published
    without its null branch (leaving it out means null; sending null still works)."""
    defs = schema.get("$defs", {})

    def walk(node: Any, in_properties: bool = False) -> Any:
        if isinstance(node, list):
            return [walk(item) for item in node]
        if not isinstance(node, dict):
            return node
        node = _optional(node) or node
        if "$ref" in node and node["$ref"].startswith("#/$defs/"):
            target = walk(defs[node["$ref"].rsplit("/", 1)[-1]])
            return {**target, **{k: walk(v) for k, v in node.items() if k != "$ref"}}
        out = {}
        for key, value in node.items():
            if key == "$defs" or (key == "title" and not in_properties and isinstance(value, str)):
                continue  # in "properties", "title" is a field's name, not the annotation
            if key == "additionalProperties" and value is True and not in_properties:
                continue  # JSON Schema's default: saying it costs every turn and means nothing more
            if key == "type" and value == "string" and not in_properties \
                    and all(isinstance(v, str) for v in node.get("enum") or [None]):
                continue  # an enum of strings says the type already
            out[key] = walk(value, in_properties=key == "properties")
        return out

    return walk(schema)
