"""Hostile request bodies and upgrades get a 4xx that says what is wrong, never a 500, and an
unauthenticated WebSocket upgrade is refused like every other unauthenticated request."""

from __future__ import annotations

import pytest
import websockets.sync.client as ws_client
from websockets.exceptions import InvalidStatus

from tests.http.http_support import TOKEN

WRITE_PATHS = ["/runbooks/execute", "/runbooks/create", "/runbooks/learn", "/api/v1/runbooks",
               "/webhooks/alertmanager", "/runbooks/plan"]


def _nested(depth: int) -> bytes:
    return b'{"runbook_id": "x", "context": ' + b'{"a": ' * depth + b"1" + b"}" * depth + b"}"


@pytest.mark.parametrize("path", WRITE_PATHS)
@pytest.mark.parametrize("body, needle", [
    pytest.param(_nested(1000), "nests deeper", id="nested-1000"),
    pytest.param(_nested(100_000), "nests deeper", id="nested-100000"),
    pytest.param(b'{"runbook_id": "x", "context": {"replicas": ' + b"9" * 5000 + b"}}", "digits", id="int-5000-digits"),
    pytest.param(b'{"runbook_id": "x", "context": {"replicas": -' + b"9" * 50 + b"}}", "digits", id="int-negative-50"),
    pytest.param(b'{"runbook_id": "x\\u0000y"}', "NUL", id="nul"),
    pytest.param(b'{"title": "t\\ud800", "content": "x"}', "surrogate", id="lone-surrogate"),
])
def test_hostile_bodies_get_a_4xx(client, path, body, needle):
    r = client.post(path, content=body, headers={"content-type": "application/json"})
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:200])
    assert needle in r.json()["message"]


def test_an_over_long_folder_name_is_a_4xx(client):
    r = client.post("/runbooks/create", json={"title": "Long folder", "content": "## Steps\nCheck the disk usage now.",
                                              "folder": "a" * 290})
    assert r.status_code == 400 and "255 bytes" in r.json()["message"]


@pytest.mark.parametrize("path", ["/messages/", "/mcp", "/sse", "/runbooks/search"])
@pytest.mark.parametrize("auth, status", [(None, 401), ("wrong-token", 401), (TOKEN, 403)])
def test_websocket_upgrades_are_refused(live, path, auth, status):
    headers = {"Authorization": f"Bearer {auth}"} if auth else {}
    with pytest.raises(InvalidStatus) as info:
        ws_client.connect(f"ws://127.0.0.1:{live.port}{path}", additional_headers=headers, open_timeout=10)
    assert info.value.response.status_code == status
