"""Domain errors. Every message says what was wrong and what to do about it.

The MCP layer turns them into `ToolError`s and the HTTP layer into 4xx JSON bodies; any other
exception is a bug.
"""


class RunbookError(Exception):
    """Base class: a request that cannot be served as asked."""

    status = 400


class InvalidInput(RunbookError):
    status = 400


class NotFound(RunbookError):
    status = 404


class Conflict(RunbookError):
    status = 409


class StaleWrite(Conflict):
    """Another writer changed the row since it was read (another thread or replica); re-read
    and try again."""


class Forbidden(RunbookError):
    status = 403


class Unavailable(RunbookError):
    """The index or its store cannot answer right now (e.g. the Chroma server is down)."""

    status = 503


class StoreUnavailable(Unavailable):
    """The state database cannot answer: down, unreachable, or busy past the timeout.

    Its message names the setting to check, so an operator reading a 503 or a tool error
    knows where to look; retrying later is always safe (nothing was half-written).
    """
