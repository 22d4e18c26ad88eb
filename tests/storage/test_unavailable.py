"""A database that is down, unreachable or locked gives one clear error, quickly: never a crash,
never a hang. HTTP answers 503 and MCP a tool error, both naming the setting to check."""

from __future__ import annotations

import socket
import sqlite3
import time

import anyio
import httpx
import pytest
from mcp import Client
from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from starlette.applications import Starlette
from starlette.routing import Route

from faultmaven_runbooks.adapters.http.responses import EXCEPTION_HANDLERS
from faultmaven_runbooks.adapters.mcp.calls import answer as answer_tool_call
from faultmaven_runbooks.errors import InvalidInput, StoreUnavailable
from faultmaven_runbooks.settings import Settings
from faultmaven_runbooks.storage import SETTING, database_url, open_store

from .pg_server import PostgresServer
from .support import execution


@pytest.fixture
def own_postgres():
    """A server of the test's own, which it may stop and start."""
    server = PostgresServer().start()
    yield server
    server.destroy()


def _timed(call) -> tuple[Exception, float]:
    started = time.monotonic()
    with pytest.raises(StoreUnavailable) as caught:
        call()
    return caught.value, time.monotonic() - started


def test_a_stopped_postgresql_gives_a_clear_error_quickly_and_recovery_needs_no_restart(own_postgres, tmp_path):
    url = own_postgres.create_database().replace("postgres@", "postgres:s3cret-pw@")
    settings = Settings(_env_file=None, data_dir=tmp_path, database_url=url)
    store = open_store(settings)
    store.executions.add(execution("exec-000000000001"))
    own_postgres.stop()
    error, seconds = _timed(lambda: store.executions.get("exec-000000000001"))
    assert seconds < 3
    assert SETTING in str(error) and "DATABASE_URL" in str(error) and "s3cret-pw" not in str(error)
    _, seconds = _timed(lambda: open_store(settings))  # a replica starting while the database is down
    assert seconds < 3
    own_postgres.start()
    assert store.executions.get("exec-000000000001").status == "awaiting_approval"  # pool reconnects
    store.close()


def test_a_server_that_never_answers_times_out_instead_of_hanging(tmp_path):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # accepts connections (the kernel does) and never says a word
    port = listener.getsockname()[1]
    try:
        settings = Settings(_env_file=None, data_dir=tmp_path, database_timeout_seconds=2,
                            database_url=f"postgresql://app@127.0.0.1:{port}/state")
        error, seconds = _timed(lambda: open_store(settings))
        assert 1.5 < seconds < 6 and SETTING in str(error)
    finally:
        listener.close()


def test_sqlite_locked_past_the_timeout_is_unavailable_while_reads_go_on(tmp_path):
    settings = Settings(_env_file=None, data_dir=tmp_path, database_timeout_seconds=0.5)
    store = open_store(settings)
    store.executions.add(execution("exec-000000000001"))
    holder = sqlite3.connect(tmp_path / "state.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock and does not let go
    try:
        error, seconds = _timed(lambda: store.usage.add_retrievals({"pod-oomkilled": 1}))
        assert 0.4 < seconds < 3 and "database is locked" in str(error)
        assert store.executions.get("exec-000000000001") is not None  # WAL: readers are not blocked
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    store.usage.add_retrievals({"pod-oomkilled": 1})
    assert store.usage.get("pod-oomkilled")["retrievals"] == 1
    store.close()


def test_http_answers_503_and_mcp_a_tool_error(own_postgres, tmp_path):
    store = open_store(Settings(_env_file=None, data_dir=tmp_path, database_url=own_postgres.create_database()))
    own_postgres.stop()

    async def executions(request):
        store.executions.page()

    app = Starlette(routes=[Route("/executions", executions)], exception_handlers=EXCEPTION_HANDLERS)

    async def call():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            return await client.get("/executions")

    answer = anyio.run(call)
    assert answer.status_code == 503 and SETTING in answer.json()["message"]

    server = MCPServer("store-down")

    @server.tool()
    async def list_executions(ctx: Context) -> dict:
        return await answer_tool_call(ctx, "list_executions", store.executions.page)

    async def call_tool():
        async with Client(server) as client:
            return await client.call_tool("list_executions", {})

    result = anyio.run(call_tool)
    assert result.is_error and SETTING in result.content[0].text
    store.close()


def test_the_url_setting_is_read_from_either_name_and_checked(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "postgres://app:pw@db.internal:5432/state")
    settings = Settings(_env_file=None, data_dir=tmp_path)
    assert database_url(settings).drivername == "postgresql+psycopg"
    monkeypatch.setenv(SETTING, "postgresql://app@primary:5432/state")
    assert database_url(Settings(_env_file=None, data_dir=tmp_path)).host == "primary"  # the prefixed name wins
    monkeypatch.delenv(SETTING)
    monkeypatch.delenv("DATABASE_URL")
    assert database_url(Settings(_env_file=None, data_dir=tmp_path)).database == str(tmp_path / "state.db")
    for bad in ("mysql://app@db/state", "not a url"):
        with pytest.raises(InvalidInput, match=SETTING):
            database_url(Settings(_env_file=None, data_dir=tmp_path, database_url=bad))
