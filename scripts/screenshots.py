"""Screenshots of every console page for the README: `make screenshots` (or run this file).

It builds a demo data dir in a temp folder: the shipped library plus the executor's sampler
runbook, a fake Kubernetes API (tests/executor/fake_kube.py) behind the executor, two approvers,
executions approved, rejected and waiting, incidents learned (one becomes a draft), a resolved
case, a backup. Then the real app serves it on a loopback port and headless Chromium signs in
and photographs each page into docs/console-*.png.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from faultmaven_runbooks.adapters.http import build_app  # noqa: E402
from faultmaven_runbooks.adapters.mcp.server import build_server  # noqa: E402
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
PAGES = [
    ("login", "/ui/login", False), ("executions", "/ui/executions", True), ("execution", None, True),
    ("drafts", "/ui/drafts", True), ("draft", None, True), ("library", "/ui/library?q=pod+keeps+restarting", True),
    ("runbook", "/ui/library/pod-oomkilled", True), ("dashboard-performance", "/ui/dashboards/performance", True),
    ("dashboard-learning", "/ui/dashboards/learning", True), ("dashboard-storage", "/ui/dashboards/storage", True),
    ("dashboard-incidents", "/ui/dashboards/incidents", True),
]


def demo(work: Path, kube: FakeKube, model: str) -> tuple[RunbookService, dict[str, str], str, str]:
    library = work / "library"
    shutil.copytree(ROOT / "runbooks", library)
    shutil.copytree(ROOT / "tests" / "executor" / "fixtures" / "library", library, dirs_exist_ok=True)
    settings = Settings(library_dir=library, data_dir=work / "data", embedding_model=model,
                        kubeconfig=kube.kubeconfig(work / "kubeconfig"))
    service = RunbookService(settings)
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
