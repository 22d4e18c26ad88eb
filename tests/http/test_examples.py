"""The shipped examples point at endpoints this server really has, with auth."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlparse

import httpx
import yaml

from faultmaven_runbooks.adapters.http import build_app
from faultmaven_runbooks.settings import AlertSettings, Settings

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PATHS = build_app(None, None, Settings(_env_file=None)).openapi()["paths"]  # the document; no service needed


def test_alertmanager_receiver_example():
    config = yaml.safe_load((EXAMPLES / "alertmanager-receiver.yml").read_text())
    receiver = next(r for r in config["receivers"] if r["name"] == config["route"]["receiver"])
    hook = receiver["webhook_configs"][0]
    assert urlparse(hook["url"]).path == "/webhooks/alertmanager" and "post" in PATHS["/webhooks/alertmanager"]
    assert hook["send_resolved"] is True
    assert hook["http_config"]["authorization"]["type"] == "Bearer"
    assert hook["max_alerts"] <= AlertSettings().max_alerts_per_webhook


def test_n8n_workflow_example():
    workflow = json.loads((EXAMPLES / "n8n-workflow.json").read_text())
    names = {n["name"] for n in workflow["nodes"]}
    for source, targets in workflow["connections"].items():
        assert source in names
        for branch in targets["main"]:
            assert all(t["node"] in names for t in branch)
    calls = [n for n in workflow["nodes"] if n["type"] == "n8n-nodes-base.httpRequest"]
    assert {re.sub(r"^.*\}\}", "", n["parameters"]["url"]) for n in calls} == {
        "/webhooks/n8n/incident", "/runbooks/execute", "/runbooks/learn"}
    for node in calls:
        path = re.sub(r"^.*\}\}", "", node["parameters"]["url"])
        assert node["parameters"]["method"].lower() in PATHS[path]
        assert node["parameters"]["genericAuthType"] == "httpHeaderAuth"


def test_configured_public_host_is_accepted(start_server):
    from tests.http.http_support import TOKEN

    live = start_server(mcp=False, allowed_hosts=["runbooks.internal:*"], allowed_origins=["https://n8n.internal"])
    auth = {"Authorization": f"Bearer {TOKEN}"}
    ok = httpx.get(f"{live.url}/runbooks/search", params={"q": "disk"},
                   headers={**auth, "Host": "runbooks.internal:8080", "Origin": "https://n8n.internal"})
    assert ok.status_code == 200
    bad = httpx.get(f"{live.url}/runbooks/search", params={"q": "disk"}, headers={**auth, "Host": "other.internal:8080"})
    assert bad.status_code == 421
