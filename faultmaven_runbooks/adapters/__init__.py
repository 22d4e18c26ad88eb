"""Protocols only (MCP, HTTP, CLI): each calls the service and nothing below it calls them."""
