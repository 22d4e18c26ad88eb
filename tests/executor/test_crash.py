"""kill -9 in the worst moment: a real `serve --transport streamable-http` process is killed while
an approved change is in flight to a slow API server. After a restart the execution is
interrupted (audited), nothing is sent again, and nothing is left to block later approvals."""

from __future__ import annotations

import io
import json
import signal
import threading

import httpx
import pytest

from faultmaven_runbooks.executor.approvers import for_settings
from faultmaven_runbooks.storage import open_store
from tests.serving import ServeProcess

from .conftest import CTX

pytestmark = [pytest.mark.both_stores, pytest.mark.long]  # on SQLite, and again on PostgreSQL (tests/conftest.py)

TOKEN = "api-token-for-the-agent-0123456789"
API = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def serve(exec_settings, sampler_library, kube, tmp_path):
    kubeconfig = kube.kubeconfig(tmp_path / "kubeconfig")
    started = []

    def start() -> ServeProcess:
        started.append(ServeProcess(sampler_library, exec_settings.data_dir, {
            "FAULTMAVEN_RUNBOOKS_KUBECONFIG": str(kubeconfig), "FAULTMAVEN_RUNBOOKS_AUTH_TOKEN": TOKEN,
            "FAULTMAVEN_RUNBOOKS_DATABASE_URL": exec_settings.database_url or ""}))
        return started[-1]

    yield start
    for server in started:
        server.stop()


def _approve(url: str, execution_id: str, token: str, answers: list) -> None:
    try:
        answers.append(httpx.post(f"{url}/runbooks/executions/{execution_id}/approve",
                                  headers={"Authorization": f"Bearer {token}"}, timeout=60))
    except httpx.HTTPError as exc:  # the server died under it
        answers.append(exc)


def test_kill_9_during_a_slow_apply_recovers_without_a_stale_lock(serve, exec_settings, kube):
    approver = for_settings(exec_settings).add("alice")
    first = serve()
    run = httpx.post(f"{first.url}/runbooks/execute", headers=API, timeout=60, json={
        "runbook_id": "exec-sampler", "context": CTX, "parameters": {"dry_run": False, "steps": [10]}}).json()
    assert run["status"] == "awaiting_approval", run
    kube.apply_delay = 30  # the DELETE arrives, and the API server takes its time
    answers: list = []
    threading.Thread(target=_approve, args=(first.url, run["execution_id"], approver, answers), daemon=True).start()
    kube.wait_for(lambda r: r["method"] == "DELETE" and not r["dry_run"])
    first.proc.send_signal(signal.SIGKILL)  # the worst moment: the change is on the wire
    first.proc.wait(10)
    kube.apply_delay = 0

    second = serve()
    record = httpx.get(f"{second.url}/runbooks/executions/{run['execution_id']}", headers=API, timeout=30).json()
    assert record["status"] == "interrupted" and record["outcome"] == "interrupted"
    assert [s["result"] for s in record["steps"]] == ["interrupted"]
    assert "may or may not have been applied" in record["message"]
    again = httpx.post(f"{second.url}/runbooks/executions/{run['execution_id']}/approve",
                       headers={"Authorization": f"Bearer {approver}"}, timeout=30)
    assert again.status_code == 409 and "being decided" not in again.text  # a conflict, never a stale lock
    store, exported = open_store(exec_settings), io.StringIO()
    store.audit.export_jsonl(exported)
    store.close()
    order = [e["event"] for e in map(json.loads, exported.getvalue().splitlines())
             if e.get("execution_id") == run["execution_id"]]
    assert order.index("execute.applying") < order.index("execute.interrupted")
    # a new plan is approved and applied normally: nothing was left behind to block it
    fresh = httpx.post(f"{second.url}/runbooks/execute", headers=API, timeout=60, json={
        "runbook_id": "exec-sampler", "context": CTX, "parameters": {"dry_run": False, "steps": [9]}}).json()
    done = httpx.post(f"{second.url}/runbooks/executions/{fresh['execution_id']}/approve",
                      headers={"Authorization": f"Bearer {approver}"}, timeout=60)
    assert done.status_code == 200 and done.json()["status"] == "completed", done.text
    deletes = [r for r in kube.changes() if r["method"] == "DELETE"]
    assert len(deletes) == 1  # the interrupted change was sent once and never again
