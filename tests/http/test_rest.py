"""The REST API over real HTTP: search, read, errors, auth, limits, metrics, docs, storage."""

from __future__ import annotations

import httpx
import pytest

from tests.http.http_support import TOKEN


def test_health_needs_no_token(anon):
    r = anon.get("/runbooks/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["library_files"] == 4


@pytest.mark.parametrize("path", ["/runbooks/search?q=pod", "/storage/usage", "/metrics", "/openapi.json", "/docs",
                                  "/runbooks/patterns", "/api/v1/runbooks/pod-crashloop", "/sse",
                                  "/runbooks/executions", "/storage/backups", "/runbooks/analytics"])
def test_everything_else_needs_the_token(anon, path):
    r = anon.get(path)
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert r.json()["error"] == "unauthorized"
    r = anon.get(path, headers={"Authorization": "Bearer wrong-token"})
    assert r.status_code == 401
    r = anon.get(path, headers={"Authorization": f"Basic {TOKEN}"})
    assert r.status_code == 401


def test_search_finds_the_runbook_in_the_spec_shape(client):
    r = client.get("/runbooks/search", params={"q": "pod CrashLoopBackOff restarting", "limit": 3})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) >= {"results", "total", "search_time"}
    assert body["search_time"].endswith("s")
    top = body["results"][0]
    assert top["id"] == "pod-crashloop"
    for key in ("id", "title", "type", "severity", "relevance_score", "summary", "last_updated", "path", "section", "snippet"):
        assert key in top
    assert len(body["results"]) <= 3


def test_search_filters(client):
    r = client.get("/runbooks/search", params={"q": "rollout undo deployment", "type": "dynamic"})
    assert r.status_code == 200
    assert [h["type"] for h in r.json()["results"]] == ["dynamic"] * len(r.json()["results"])
    r = client.get("/runbooks/search", params={"q": "memory oom", "severity": "critical", "tags": "redis,memory"})
    assert r.status_code == 200
    assert {h["id"] for h in r.json()["results"]} <= {"redis-oom"}


def test_faultmaven_search_and_read(client):
    r = client.get("/api/v1/runbooks/search", params={"q": "redis oom connection refused 6379"})
    assert r.status_code == 200
    assert r.json()["results"][0]["id"] == "redis-oom"
    r = client.get("/api/v1/runbooks/redis-oom")
    assert r.status_code == 200
    page = r.json()
    assert page["title"] == "Redis Cluster OOM Kills" and "6379" in page["content"]
    r = client.get("/runbooks/pod-crashloop", params={"section": "Diagnosis Steps"})
    assert r.status_code == 200
    assert "--previous" in r.json()["content"] and "rollout undo" not in r.json()["content"]


@pytest.mark.parametrize(
    "params, field",
    [
        ({}, "q"),
        ({"q": ""}, "q"),
        ({"q": "x", "limit": "0"}, "limit"),
        ({"q": "x", "limit": "many"}, "limit"),
        ({"q": "x", "type": "bogus"}, "type"),
        ({"q": "x", "severity": "apocalyptic"}, "severity"),
        ({"q": "x", "colour": "blue"}, "colour"),
        ({"q": "x" * 4001}, "q"),
    ],
)
def test_bad_search_input_is_a_400_naming_the_field(client, params, field):
    r = client.get("/runbooks/search", params=params)
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["error"] == "invalid_input" and body["status"] == 400
    assert field in body["message"]
    assert any(d["field"] == field for d in body["details"])


def test_unknown_runbook_and_bad_page(client):
    r = client.get("/api/v1/runbooks/no-such-runbook")
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    assert "no-such-runbook" in r.json()["message"]
    r = client.get("/runbooks/redis-oom", params={"page": "99"})
    assert r.status_code == 400 and "page" in r.json()["message"]
    r = client.get("/runbooks/redis-oom", params={"section": "Nope"})
    assert r.status_code == 404 and "sections are" in r.json()["message"]


def test_unknown_route_and_method_are_json(client):
    r = client.get("/nope")
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    r = client.delete("/runbooks/search")
    assert r.status_code == 405 and r.json()["error"] == "method_not_allowed"


@pytest.mark.parametrize("path", ["/runbooks/learn", "/runbooks/execute", "/webhooks/alertmanager",
                                  "/webhooks/n8n/incident", "/runbooks/create", "/api/v1/cases/case_1/runbook"])
def test_malformed_bodies(client, path):
    r = client.post(path, content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and "not valid JSON" in r.json()["message"]
    r = client.post(path, content=b"", headers={"content-type": "application/json"})
    assert r.status_code == 400 and "empty" in r.json()["message"]
    r = client.post(path, content=b"[1, 2]", headers={"content-type": "application/json"})
    assert r.status_code == 400 and "JSON object" in r.json()["message"]
    r = client.post(path, content=b"a=b", headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 415 and r.json()["error"] == "unsupported_media_type"


def test_body_size_limit_declared_and_streamed(client):
    big = b'{"x": "' + b"a" * 1_100_000 + b'"}'
    r = client.post("/webhooks/alertmanager", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"] == "payload_too_large"

    def chunks():  # no Content-Length: the limit must hold while the body streams in
        for _ in range(40):
            yield b"a" * 50_000

    r = client.post("/webhooks/alertmanager", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_dns_rebinding_host_and_origin(client):
    r = client.get("/runbooks/search", params={"q": "pod"}, headers={"Host": "evil.example:8080"})
    assert r.status_code == 421
    r = client.get("/runbooks/health", headers={"Host": "evil.example"})
    assert r.status_code == 421
    r = client.get("/runbooks/search", params={"q": "pod"}, headers={"Origin": "http://evil.example"})
    assert r.status_code == 403 and "Origin" in r.json()["message"]
    r = client.get("/runbooks/search", params={"q": "pod"}, headers={"Origin": f"http://localhost:{client.base_url.port}"})
    assert r.status_code == 200


def test_metrics_count_requests_and_searches(client):
    before = client.get("/metrics").text
    client.get("/runbooks/search", params={"q": "disk full"})
    client.get("/runbooks/search", params={"q": ""})
    text = client.get("/metrics").text
    assert client.get("/metrics").headers["content-type"].startswith("text/plain")
    line = 'faultmaven_http_requests_total{method="GET",route="/runbooks/search",status="200"}'
    count = lambda t, s: float(next((x.split()[-1] for x in t.splitlines() if x.startswith(s + " ")), 0))  # noqa: E731
    assert count(text, line) == count(before, line) + 1
    bad = 'faultmaven_http_requests_total{method="GET",route="/runbooks/search",status="400"}'
    assert count(text, bad) >= 1
    assert "faultmaven_http_request_duration_seconds_bucket" in text
    assert count(text, 'faultmaven_searches_total{entry="/runbooks/search"}') >= 1
    assert count(text, "faultmaven_index_indexed_runbooks") == 4
    assert "# TYPE faultmaven_http_requests_total counter" in text


def test_metrics_route_labels_do_not_explode(client):
    for i in range(5):
        client.get(f"/random/path/{i}")
    text = client.get("/metrics").text
    assert "/random/path" not in text
    assert 'route="unmatched"' in text


def test_openapi_and_docs(client):
    doc = client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    for path in ("/runbooks/search", "/runbooks/execute", "/runbooks/create", "/runbooks/{runbook_id}",
                 "/runbooks/learn", "/runbooks/patterns", "/runbooks/executions", "/runbooks/health",
                 "/storage/usage", "/webhooks/n8n/incident", "/webhooks/alertmanager", "/api/v1/runbooks",
                 "/api/v1/runbooks/{runbook_id}", "/api/v1/runbooks/search", "/api/v1/cases/{case_id}/runbook"):
        assert path in doc["paths"], path
    schema = doc["paths"]["/runbooks/execute"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert schema["$ref"].split("/")[-1] in doc["components"]["schemas"]
    html = client.get("/docs")
    assert html.status_code == 200 and "/openapi.json" in html.text
    # Offline: every script and style the page loads is served here (tests/http/test_docs_page.py
    # opens it in Chromium); nothing comes from a CDN.
    assert "https://" not in html.text and "http://" not in html.text
    for asset in ("/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css"):
        assert asset in html.text and client.get(asset).status_code == 200


def test_storage_usage(client, http_library):
    r = client.get("/storage/usage")
    assert r.status_code == 200
    usage = r.json()["storage"]
    assert set(usage) == {"library", "index", "data", "backups"}
    lib_bytes = sum(p.stat().st_size for p in http_library.rglob("*") if p.is_file())
    assert usage["library"]["bytes"] == lib_bytes
    assert usage["library"]["files"] == len([p for p in http_library.rglob("*") if p.is_file()])
    assert usage["data"]["bytes"] >= usage["index"]["bytes"] > 0


def test_loopback_server_without_token_is_open(start_server):
    live = start_server(auth_token=None, mcp=False)
    r = httpx.get(f"{live.url}/runbooks/search", params={"q": "disk"})
    assert r.status_code == 200
    assert r.json()["results"][0]["id"] == "disk-full"
