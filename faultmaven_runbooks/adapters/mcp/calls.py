"""How every tool call runs: off the event loop, never silent, with a compact answer.

- The service is blocking (Chroma, the model, files): the work runs in a worker thread.
- A call that takes longer than a second sends `notifications/progress` every second (when the
  client asked for progress), so a client waiting on a cold index sees the call is alive
  instead of timing out.
- What the service logs during the call reaches the client as `notifications/message`, at or
  above the level the client chose with `logging/setLevel` (warning when it chose none).
- The answer's text is compact JSON without nulls; the same data is the structured content.
- Domain errors become `ToolError`s, whose text (unlike other exceptions') reaches the model.

Tools keep their response model as the return annotation: the SDK validates the structured
content of the `CallToolResult` that `answer` returns against it.
"""

from __future__ import annotations

import collections
import contextvars
import logging
import time
import warnings
from collections.abc import Awaitable, Callable

import anyio
import anyio.to_thread
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp.types import LOG_LEVEL_META_KEY, CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel

from ...errors import RunbookError

log = logging.getLogger(__name__)

# Logging is deprecated from protocol 2026-07-28 on, but the clients people use today speak
# 2025-06-18/2025-11-25, where it is the way a server tells its user what happened.
warnings.filterwarnings("ignore", message="The logging capability is deprecated", category=MCPDeprecationWarning)

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
# Writes keep the previous version or never overwrite, so nothing is destroyed.
WRITES = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False)

HEARTBEAT_SECONDS = 1.0
LEVELS = ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")
DEFAULT_LEVEL = "warning"
_PY_LEVELS = {logging.DEBUG: "debug", logging.INFO: "info", logging.WARNING: "warning",
              logging.ERROR: "error", logging.CRITICAL: "critical"}

LEVEL_KEY = "faultmaven.log_level"
_sink: contextvars.ContextVar[collections.deque | None] = contextvars.ContextVar("mcp_log_sink", default=None)


class _ToClient(logging.Handler):
    """Copies the records a tool call's own thread logs into that call's queue."""

    def emit(self, record: logging.LogRecord) -> None:
        sink = _sink.get()
        if sink is not None:
            level = _PY_LEVELS.get(record.levelno, "error" if record.levelno > logging.WARNING else "info")
            sink.append((level, record.name, record.getMessage()))


def install_log_forwarding(logger_name: str = "faultmaven_runbooks") -> None:
    logger = logging.getLogger(logger_name)
    if not any(isinstance(h, _ToClient) for h in logger.handlers):
        logger.addHandler(_ToClient())


def connection_state(session) -> dict:
    """Per-client state that lives as long as the connection (the SDK's Connection.state): the
    request context carries a per-request session, and only that session knows the connection."""
    return session._connection.state


def _threshold(ctx: Context) -> str:
    request = ctx.request_context
    chosen = connection_state(request.session).get(LEVEL_KEY)  # set by logging/setLevel
    if chosen:
        return chosen
    meta = request.meta if isinstance(request.meta, dict) else {}
    return str(meta.get(LOG_LEVEL_META_KEY) or DEFAULT_LEVEL)  # 2026-07-28: the request opts in


async def _tell(notification: Awaitable[None]) -> None:
    """Send a notification; a client that is gone or refuses it never fails the call itself."""
    try:
        await notification
    except Exception:
        log.debug("notification not delivered", exc_info=True)


async def _forward(ctx: Context, queue: collections.deque, threshold: str) -> None:
    floor = LEVELS.index(threshold) if threshold in LEVELS else LEVELS.index(DEFAULT_LEVEL)
    while queue:
        level, name, message = queue.popleft()
        if LEVELS.index(level) >= floor:
            await _tell(ctx.log(level, message, logger_name=name))


def compact(model: BaseModel) -> CallToolResult:
    """Compact text (no indentation, no nulls) plus the full structured content."""
    return CallToolResult(content=[TextContent(type="text", text=model.model_dump_json(exclude_none=True))],
                          structured_content=model.model_dump(mode="json"))


async def answer(ctx: Context, label: str, work: Callable[[], BaseModel | CallToolResult]) -> CallToolResult:
    """Run `work` (blocking service code) in a worker thread and answer compactly (a tool that
    shapes its own result returns a CallToolResult, passed on as it is)."""
    queue: collections.deque = collections.deque()
    try:
        threshold = _threshold(ctx)
    except ValueError:  # no request context: a direct call outside a client session
        threshold = None
    started = time.monotonic()
    result: list[BaseModel | CallToolResult] = []
    failure: list[BaseException] = []

    def in_thread() -> None:
        _sink.set(queue)
        try:
            result.append(work())
        except BaseException as exc:  # re-raised on the event loop below
            failure.append(exc)

    async with anyio.create_task_group() as tg:
        done = anyio.Event()

        async def heartbeat() -> None:
            beat = 0
            while not done.is_set():
                with anyio.move_on_after(HEARTBEAT_SECONDS):
                    await done.wait()
                if threshold is not None:
                    await _forward(ctx, queue, threshold)
                if not done.is_set():
                    beat += 1
                    waited = f"{label}: working ({time.monotonic() - started:.0f}s)"
                    await _tell(ctx.report_progress(beat, None, waited))

        tg.start_soon(heartbeat)
        try:
            await anyio.to_thread.run_sync(in_thread)
        finally:
            done.set()
    if threshold is not None:
        await _forward(ctx, queue, threshold)
    if failure:
        exc = failure[0]
        if isinstance(exc, RunbookError):
            raise ToolError(str(exc)) from exc
        raise exc
    done_result = result[0]
    return done_result if isinstance(done_result, CallToolResult) else compact(done_result)
