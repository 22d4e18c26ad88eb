"""What each use case takes and answers: one pydantic model per request, used as the service's
signature, the MCP tool's parameters and the HTTP body or query. Limits live here, once.

Below the adapters: nothing here imports mcp, FastAPI or Starlette.
"""
