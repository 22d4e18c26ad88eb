"""faultmaven-runbooks: an MCP server that serves, executes and grows an SRE runbook library."""

__version__ = "0.1.0"
