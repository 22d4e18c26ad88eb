"""Screenshots of every console page for the README: `make screenshots` (or run this file).

It builds a demo data dir in a temp folder: the shipped library plus the executor's sampler
runbook, a fake Kubernetes API (tests/executor/fake_kube.py) behind the executor, two approvers,
executions approved, rejected and waiting, incidents learned (one becomes a draft), a resolved
case, a backup, and a week of Alertmanager alerts (some resolved) for Incident Trends. Then
the real app serves it on a loopback port and headless Chromium signs in and photographs each
page into docs/console-*.png.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from faultmaven_runbooks.adapters.http import build_app  # noqa: E402
from faultmaven_runbooks.adapters.mcp.server import build_server  # noqa: E402
from faultmaven_runbooks.api.alerts import AlertmanagerPayload  # noqa: E402
from faultmaven_runbooks.api.executions import ExecuteRequest  # noqa: E402
from faultmaven_runbooks.api.learning import LearnRequest  # noqa: E402
from faultmaven_runbooks.api.ops import BackupRequest  # noqa: E402
from faultmaven_runbooks.service import RunbookService  # noqa: E402
from faultmaven_runbooks.settings import Settings  # noqa: E402
from tests.executor.fake_kube import CTX, FakeKube, seed  # noqa: E402
from tests.http.http_support import LiveServer  # noqa: E402
from tests.ui.browser import Browser  # noqa: E402

INCIDENTS = [
    {"id": "INC-101", "type": "pod_oom", "success": True, "duration": "14m", "runbook_used": "pod-oomkilled",
     "symptoms": ["OOMKilled", "exit code 137"], "resolution": ["increase memory limit"]},
    {"id": "INC-102", "type": "pod_oom", "success": True, "duration": "9m", "runbook_used": "pod-oomkilled",
     "symptoms": ["OOMKilled"], "resolution": ["increase memory limit"]},
    {"id": "INC-103", "type": "dns_timeouts", "success": True, "duration": "41m",
     "symptoms": ["i/o timeout resolving kube-dns", "coredns pods restarting"], "resolution": ["scale coredns"]},
    {"id": "INC-104", "type": "certificate_expired", "success": False, "duration": "1h10m",
     "symptoms": ["x509: certificate has expired"], "resolution": ["restart ingress controller"]},
    {"id": "INC-105", "type": "kafka_consumer_lag_after_rebalance", "success": True, "duration": "25m",
     "symptoms": ["consumer group lag grows after every rebalance", "partition revoked storms"],
     "resolution": ["raise max.poll.interval.ms", "pin static group membership"]},
]
# (days ago, alertname, namespace, summary, minutes until resolved or None while firing)
ALERTS = [
    (6, "KubePodCrashLooping", "payments", "Pod payments/api-7d9f is crash looping.", 35),
    (6, "KubeContainerWaiting", "checkout", "Container web in checkout has been waiting for 1 hour.", 80),
    (5, "LedgerExportBehind", "finance", "The nightly ledger export is 3 hours behind its schedule.", 95),
    (4, "NodeFilesystemSpaceFillingUp", "monitoring", "Filesystem on /var is predicted to run out of space.", 140),
    (3, "QuoteServiceSlowQuotes", "pricing", "Quote service answers take over 2 s for premium plans.", 60),
    (2, "KubePodCrashLooping", "orders", "Pod orders/worker-66f is crash looping.", 12),
    (1, "CPUThrottlingHigh", "search", "34% throttling of CPU in namespace search for container indexer.", None),
    (0, "KubeMemoryOvercommit", "default", "Cluster has overcommitted memory resource requests.", None),
]
PAGES = [
    ("login", "/ui/login", False), ("executions", "/ui/executions", True), ("execution", None, True),
    ("drafts", "/ui/drafts", True), ("draft", None, True), ("library", "/ui/library?q=pod+keeps+restarting", True),
    ("runbook", "/ui/library/pod-oomkilled", True), ("dashboard-performance", "/ui/dashboards/performance", True),
    ("dashboard-learning", "/ui/dashboards/learning", True), ("dashboard-storage", "/ui/dashboards/storage", True),
    ("dashboard-incidents", "/ui/dashboards/incidents", True),
]


class DemoClock:
    """The demo's time: moved back and forth so the alerts spread over a week."""

    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


def alerts_of_the_week(service: RunbookService, clock: DemoClock) -> None:
    today = clock.now
    for n, (days, name, namespace, summary, minutes) in enumerate(ALERTS):
        started = today - dt.timedelta(days=days, hours=n % 5)
        alert = {"labels": {"alertname": name, "namespace": namespace, "severity": "warning"},
                 "annotations": {"summary": summary}, "startsAt": started.isoformat(), "fingerprint": f"demo{n:04d}"}
        clock.now = started
        service.triage_alertmanager(AlertmanagerPayload.model_validate(
            {"version": "4", "status": "firing", "receiver": "faultmaven", "alerts": [alert]}))
        if minutes is not None:
            clock.now = started + dt.timedelta(minutes=minutes)
            ended = {**alert, "status": "resolved", "endsAt": clock.now.isoformat()}
            service.triage_alertmanager(AlertmanagerPayload.model_validate(
                {"version": "4", "status": "resolved", "receiver": "faultmaven", "alerts": [ended]}))
    clock.now = today


def demo(work: Path, kube: FakeKube, model: str) -> tuple[RunbookService, dict[str, str], str, str]:
    library = work / "library"
    shutil.copytree(ROOT / "runbooks", library)
    shutil.copytree(ROOT / "tests" / "executor" / "fixtures" / "library", library, dirs_exist_ok=True)
    settings = Settings(library_dir=library, data_dir=work / "data", embedding_model=model,
                        kubeconfig=kube.kubeconfig(work / "kubeconfig"),
                        alerts={"webhook_dry_run": True})  # confident alerts get a dry run: "with a runbook"
    clock = DemoClock()
    service = RunbookService(settings, clock=clock)
    service.reindex()
    tokens = {name: service.executions.approvers.add(name) for name in ("alice", "bob")}

    def change(step: int) -> str:
        return service.execute(ExecuteRequest(runbook_id="exec-sampler", context=CTX, requester="mcp-client",
                                              parameters={"dry_run": False, "steps": [step]})).execution_id

    service.decide(change(9), "bob", "approve", "limit too low for the new cache; verified with on-call", "console")
    service.decide(change(9), "bob", "reject", "not during the release freeze", "console")
    service.execute(ExecuteRequest(runbook_id="exec-sampler", context=CTX, requester="mcp-client"))
    pending = service.execute(ExecuteRequest(runbook_id="exec-sampler", context=CTX, requester="mcp-client",
                                             parameters={"dry_run": False, "option": "A"})).execution_id
    for incident in INCIDENTS:
        service.learn(LearnRequest.model_validate({"incident_data": incident}))
    service.backup(BackupRequest(kind="daily"))
    alerts_of_the_week(service, clock)
    draft = next(info.id for info in service.list_runbooks(status="draft"))
    return service, tokens, pending, draft


def shoot(browser: Browser, url: str, out: Path) -> None:
    browser.open(url)
    browser.wait(lambda: browser.driver.execute_script("return document.readyState") == "complete")
    browser.wait(lambda: all(f.get_attribute("data-drawn") for f in browser.all("figure.chart canvas ~ *")) or True)
    height = browser.driver.execute_script("return document.documentElement.scrollHeight")
    browser.driver.set_window_size(1280, min(max(height, 700), 2400))
    browser.driver.save_screenshot(str(out))
    browser.driver.set_window_size(1280, 1000)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--model", default="bundled:all-MiniLM-L6-v2", help="embedding model (hash:256 is faster)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    kube = seed(FakeKube()).start()
    with tempfile.TemporaryDirectory(prefix="console-demo-") as tmp:
        service, tokens, pending, draft = demo(Path(tmp), kube, args.model)
        live = LiveServer(build_app(service, build_server(service), service.settings)).start()
        browser = Browser()
        try:
            for name, path, signed_in in PAGES:
                if signed_in and browser.path().startswith("/ui/login"):
                    browser.sign_in(live.url, tokens["alice"])
                path = path or (f"/ui/executions/{pending}" if name == "execution" else f"/ui/drafts/{draft}")
                shoot(browser, live.url + path, args.out / f"console-{name}.png")
                print(f"docs/console-{name}.png  {path}")
        finally:
            browser.quit()
            live.stop()
            kube.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
