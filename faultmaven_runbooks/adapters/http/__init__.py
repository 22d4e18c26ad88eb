"""HTTP surface: REST API, webhooks, metrics and MCP streamable HTTP/SSE in one Starlette app."""

from .app import UnsafeBind, build_app, check_bind, run_http
from .config import HttpSettings

__all__ = ["HttpSettings", "UnsafeBind", "build_app", "check_bind", "run_http"]
