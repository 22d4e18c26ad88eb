"""The OpenAPI document for the REST API, built from the request models, and a small docs page."""

from __future__ import annotations

import html
from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from ...models import RunbookPage, SearchResponse, SuggestResponse
from . import schemas as s
from .routes_executions import Decision, ExecutionsPage
from .routes_storage import AnalyticsQuery, BackupRequest

REF = "#/components/schemas/{model}"

# method, path, summary, query model, body model, response model, tag
ENDPOINTS: list[tuple[str, str, str, Any, Any, Any, str]] = [
    ("get", "/runbooks/search", "Search runbooks", s.SearchQuery, None, SearchResponse, "runbooks"),
    ("get", "/runbooks/{runbook_id}", "Read a runbook (paged; one section with ?section=)", s.PageQuery, None, RunbookPage, "runbooks"),
    ("post", "/runbooks/create", "Create a runbook", None, s.RunbookWrite, None, "runbooks"),
    ("put", "/runbooks/{runbook_id}", "Update a runbook", None, s.RunbookWrite, None, "runbooks"),
    ("post", "/runbooks/execute", "Execute a runbook in the sandbox (dry-run first, approvals for changes)", None, s.ExecuteRequest, None, "executions"),
    ("post", "/runbooks/plan", "Preview what execute would run (runs nothing)", None, s.ExecuteRequest, None, "executions"),
    ("get", "/runbooks/executions", "Executions, newest first, paged with a cursor", ExecutionsPage, None, None, "executions"),
    ("get", "/runbooks/executions/{execution_id}", "One execution (API token or an approver credential)", None, None, None, "executions"),
    ("post", "/runbooks/executions/{execution_id}/approve", "Approve a pending plan: needs an approver credential, never the API token", None, Decision, None, "executions"),
    ("post", "/runbooks/executions/{execution_id}/reject", "Reject a pending plan (approver credential)", None, Decision, None, "executions"),
    ("post", "/runbooks/learn", "Learn from a resolved incident", None, s.LearnRequest, None, "learning"),
    ("get", "/runbooks/patterns", "Learned incident patterns", s.PageCursor, None, None, "learning"),
    ("get", "/runbooks/health", "Health (no auth)", None, None, None, "operations"),
    ("get", "/storage/usage", "Storage used by library, index, data and backups", None, None, None, "operations"),
    ("get", "/storage/backups", "List backups", None, None, None, "operations"),
    ("post", "/storage/backups", "Back up library and data now", None, BackupRequest, None, "operations"),
    ("get", "/runbooks/analytics", "Runbook usage and effectiveness", AnalyticsQuery, None, None, "operations"),
    ("get", "/metrics", "Prometheus metrics", None, None, None, "operations"),
    ("post", "/webhooks/alertmanager", "Alertmanager webhook (v4): suggestions per firing alert", None, s.AlertmanagerPayload, None, "webhooks"),
    ("post", "/webhooks/n8n/incident", "n8n incident webhook", None, s.N8nIncident, SuggestResponse, "webhooks"),
    ("post", "/api/v1/runbooks", "Create a runbook (FaultMaven API)", None, s.RunbookWrite, None, "faultmaven"),
    ("get", "/api/v1/runbooks/search", "Search runbooks (FaultMaven API)", s.SearchQuery, None, SearchResponse, "faultmaven"),
    ("get", "/api/v1/runbooks/{runbook_id}", "Read a runbook (FaultMaven API)", s.PageQuery, None, RunbookPage, "faultmaven"),
    ("post", "/api/v1/cases/{case_id}/runbook", "Generate a runbook from a resolved case", None, s.CaseRunbookRequest, None, "faultmaven"),
]

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {"type": "string"},
        "message": {"type": "string", "description": "What was wrong and what to do."},
        "status": {"type": "integer"},
        "details": {"type": "array", "items": {"type": "object"}},
    },
    "required": ["error", "message", "status"],
}


def _schema(model: type[BaseModel], components: dict) -> dict:
    schema = model.model_json_schema(ref_template=REF)
    for name, sub in schema.pop("$defs", {}).items():
        components[name] = sub
    components[model.__name__] = schema
    return {"$ref": REF.format(model=model.__name__)}


def build_openapi(version: str = "0.1.0") -> dict:
    components: dict[str, Any] = {"Error": ERROR_SCHEMA}
    paths: dict[str, dict] = {}
    for method, path, summary, query, body, response, tag in ENDPOINTS:
        op: dict[str, Any] = {"summary": summary, "tags": [tag], "responses": {}}
        params = [
            {"name": seg[1:-1], "in": "path", "required": True, "schema": {"type": "string"}}
            for seg in path.split("/")
            if seg.startswith("{")
        ]
        if query is not None:
            for name, field in query.model_fields.items():
                params.append(
                    {"name": name, "in": "query", "required": field.is_required(),
                     "description": field.description or "", "schema": {"type": "integer" if field.annotation is int else "string"}}
                )
        if params:
            op["parameters"] = params
        if body is not None:
            op["requestBody"] = {"required": True, "content": {"application/json": {"schema": _schema(body, components)}}}
        ok_schema = _schema(response, components) if response is not None else {"type": "object"}
        op["responses"]["200"] = {"description": "OK", "content": {"application/json": {"schema": ok_schema}}}
        for code, text in (("400", "Bad input"), ("401", "Missing or wrong bearer token"), ("404", "Not found"), ("413", "Body too large")):
            op["responses"][code] = {"description": text, "content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}}}
        if path == "/runbooks/health":
            op["security"] = []
        paths.setdefault(path, {})[method] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "FaultMaven runbooks", "version": version,
                 "description": "Runbook search, execution, learning and authoring. MCP: streamable HTTP at /mcp, SSE at /sse."},
        "paths": paths,
        "components": {"schemas": components, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
    }


async def openapi_json(request: Request) -> Response:
    doc = request.app.state.openapi
    return JSONResponse(doc)


async def docs_page(request: Request) -> Response:
    # Self-contained HTML (no CDN scripts): works offline and loads nothing third-party.
    rows = []
    for method, path, summary, *_rest in ENDPOINTS:
        rows.append(f"<tr><td><code>{method.upper()}</code></td><td><code>{html.escape(path)}</code></td>"
                    f"<td>{html.escape(summary)}</td></tr>")
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>FaultMaven runbooks API</title>"
        "<style>body{font-family:sans-serif;margin:2em}td{padding:4px 12px;border-bottom:1px solid #ddd}</style>"
        "</head><body><h1>FaultMaven runbooks API</h1>"
        "<p>Send <code>Authorization: Bearer &lt;token&gt;</code> on every call but health. "
        "Machine-readable: <a href='/openapi.json'>/openapi.json</a>. "
        "MCP clients: streamable HTTP at <code>/mcp</code>, SSE at <code>/sse</code>.</p>"
        "<table><tr><th>Method</th><th>Path</th><th>What</th></tr>" + "".join(rows) + "</table></body></html>"
    )
    return HTMLResponse(page)


ROUTES = [
    Route("/openapi.json", openapi_json, methods=["GET"]),
    Route("/docs", docs_page, methods=["GET"]),
]
