"""A database that is down, unreachable or locked gives one clear error, quickly: never a crash,
never a hang. HTTP answers 503 and MCP a tool error, both naming the setting to check; the real
server starts without its database, answers that way on every path that needs state, keeps
searching, and recovers by itself when the database is back."""

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
from tests.http.http_support import write_library
from tests.serving import ServeProcess

from .pg_server import PostgresServer
from .support import execution

pytestmark = pytest.mark.long

TOKEN = "api-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
INCIDENT = {"id": "INC-1", "type": "pod_crash", "diagnosis": ["memory limit exceeded"], "resolution": ["raise limit"],
            "success": True}
# Every HTTP path that needs state: (method, path, JSON body, status once the database is back).
STATE_PATHS = [
    ("GET", "/runbooks/executions", None, 200),
    ("GET", "/runbooks/executions/exec-000000000000", None, 404),
    ("POST", "/runbooks/execute", {"runbook_id": "pod-crashloop", "context": {"namespace": "prod"}}, 200),
    ("POST", "/runbooks/executions/exec-000000000000/approve", None, 403),
    ("POST", "/runbooks/learn", {"incident_data": INCIDENT}, 200),
    ("GET", "/runbooks/patterns", None, 200),
    ("GET", "/runbooks/analytics", None, 200),
    ("POST", "/runbooks/create", {"title": "Zookeeper session storms", "content": "## Steps\nCheck the zk logs."},
     201),
    ("PUT", "/runbooks/disk-full", {"severity": "high"}, 200),
    ("POST", "/storage/backups", None, 201),
]
# And every MCP tool that does: (tool, arguments).
STATE_TOOLS = [("list_executions", {}), ("learn", {"incident_data": INCIDENT}), ("get_patterns", {}),
               ("runbook_analytics", {}), ("runbook_history", {"runbook_id": "disk-full"}),
               ("update_runbook", {"runbook_id": "disk-full", "severity": "low"}),
               ("execute", {"runbook_id": "pod-crashloop", "context": {"namespace": "prod"}})]


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


async def _tools(url: str) -> dict:
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    answers = {}
    async with create_mcp_http_client(headers=AUTH) as http:
        async with Client(streamable_http_client(f"{url}/mcp", http_client=http)) as client:
            for name, arguments in [*STATE_TOOLS, ("search", {"query": "pod CrashLoopBackOff restarting"})]:
                result = await client.call_tool(name, arguments)
                answers[name] = (result.is_error, " ".join(getattr(c, "text", "") for c in result.content))
    return answers


def test_the_real_server_runs_without_its_database_and_recovers_by_itself(own_postgres, tmp_path):
    url = own_postgres.create_database()
    own_postgres.stop()  # down before the server starts, and all the while below
    server = ServeProcess(write_library(tmp_path / "library"), tmp_path / "data", {
        "FAULTMAVEN_RUNBOOKS_DATABASE_URL": url, "FAULTMAVEN_RUNBOOKS_AUTH_TOKEN": TOKEN})
    try:
        with httpx.Client(base_url=server.url, headers=AUTH, timeout=60) as http:
            assert http.get("/runbooks/health").status_code == 200
            for method, path, body, _ in STATE_PATHS:
                answer = http.request(method, path, json=body)
                assert answer.status_code == 503, (path, answer.text)
                assert SETTING in answer.json()["message"] and "DATABASE_URL" in answer.json()["message"], path
            server.wait_until_indexed()  # a search never waits for indexing
            search = http.get("/runbooks/search", params={"q": "pod CrashLoopBackOff restarting"})
            assert search.status_code == 200 and search.json()["results"][0]["id"] == "pod-crashloop"
            tools = anyio.run(_tools, server.url)
            for name, _ in STATE_TOOLS:
                failed, text = tools[name]
                assert failed and SETTING in text and "cannot answer" in text, (name, text)
            assert tools["search"][0] is False and "pod-crashloop" in tools["search"][1]

            own_postgres.start()  # back: the same process serves every path, no restart
            for method, path, body, status in STATE_PATHS:
                answer = http.request(method, path, json=body)
                assert answer.status_code == status, (path, answer.text)
            assert http.get("/runbooks/patterns").json()["total_incidents"] == 1
            back = anyio.run(_tools, server.url)
            assert not any(SETTING in text for _, text in back.values())
            # execute answers a failed run as an error (no cluster here), the others succeed
            assert [name for name, (failed, _) in back.items() if failed] == ["execute"], back["execute"]
        assert server.proc.poll() is None and "Traceback" not in "".join(server.log)
    finally:
        server.stop()
