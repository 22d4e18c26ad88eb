"""The web console under /ui: sign in, approvals, drafts, the library and the dashboards.

`app.build_console` mounts it; `links` says where its pages are. The package imports neither
eagerly: an MCP server on stdio links to console pages without loading the console itself.
"""
