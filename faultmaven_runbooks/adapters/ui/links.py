"""Addresses of console pages, for the pages themselves and for what MCP clients are sent."""

from __future__ import annotations

from urllib.parse import quote

from ...settings import Settings

PREFIX = "/ui"


def execution_path(execution_id: str) -> str:
    return f"{PREFIX}/executions/{quote(execution_id, safe='')}"


def console_base(settings: Settings, request_base: str | None) -> str | None:
    """The console's base URL: the setting when given, else the address the request came to
    (the HTTP service's own host and port); None when neither is known (stdio without the setting)
    or the console is off."""
    if not settings.ui.console:
        return None
    if settings.ui.console_url:
        return settings.ui.console_url.rstrip("/")
    return request_base.rstrip("/") if request_base else None


def execution_url(settings: Settings, execution_id: str, request_base: str | None) -> str | None:
    base = console_base(settings, request_base)
    return f"{base}{execution_path(execution_id)}" if base else None
