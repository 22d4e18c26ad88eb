"""kill -9 in the worst moment: a real `serve --transport streamable-http` process is killed while
an approved change is in flight to a slow API server. After a restart the execution is
interrupted (audited), nothing is sent again, and nothing is left to block later approvals."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from faultmaven_runbooks.executor.approvers import for_settings
from faultmaven_runbooks.storage import open_store

from .conftest import CTX

TOKEN = "api-token-for-the-agent-0123456789"
API = {"Authorization": f"Bearer {TOKEN}"}


class Server:
    """`faultmaven-runbooks serve` on port 0; the port is read from uvicorn's start-up line."""

    def __init__(self, settings, kubeconfig: Path):
        exe = Path(sys.executable).with_name("faultmaven-runbooks")
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "FAULTMAVEN_RUNBOOKS_EMBEDDING_MODEL": "hash:256",
               "FAULTMAVEN_RUNBOOKS_KUBECONFIG": str(kubeconfig), "FAULTMAVEN_RUNBOOKS_AUTH_TOKEN": TOKEN,
               "FAULTMAVEN_RUNBOOKS_DATABASE_URL": settings.database_url or ""}
        self.proc = subprocess.Popen(
            [str(exe), "serve", "--transport", "streamable-http", "--host", "127.0.0.1", "--port", "0",
             "--library", str(settings.library_dir), "--data", str(settings.data_dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True)
        self.log: list[str] = []
        found = threading.Event()

        def read():
            for line in self.proc.stderr:
                self.log.append(line)
                if "Uvicorn running on" in line:
                    found.set()

        threading.Thread(target=read, daemon=True).start()
        if not found.wait(60):
            self.proc.kill()
            raise RuntimeError("server did not start:\n" + "".join(self.log))
        port = re.search(r"Uvicorn running on http://127\.0\.0\.1:(\d+)", "".join(self.log)).group(1)
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.fixture
def serve(exec_settings, kube, tmp_path):
    kubeconfig = kube.kubeconfig(tmp_path / "kubeconfig")
    started = []

    def start() -> Server:
        started.append(Server(exec_settings, kubeconfig))
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
