"""HTTP surface: REST API, webhooks, metrics, docs and MCP streamable HTTP/SSE in one FastAPI app."""

from .app import UnsafeBind, build_app, check_bind, run_http

__all__ = ["UnsafeBind", "build_app", "check_bind", "run_http"]
