"""How fast the console's pages answer, signed in, over a real loopback socket.

The demo data dir of scripts/screenshots.py (the shipped library, the fake Kubernetes API of the
tests, approvals, learned incidents, a backup), the real app on a real port, one client; each
page is fetched RUNS times after one warm-up and the median and p95 wall times are printed.
"""

from __future__ import annotations

import re
import statistics
import tempfile
import time
from pathlib import Path

from _common import ROOT, percentile

RUNS = 30


def main() -> None:
    import sys

    import httpx

    sys.path.insert(0, str(ROOT / "scripts"))
    from screenshots import demo

    from faultmaven_runbooks.adapters.http import build_app
    from tests.executor.fake_kube import FakeKube, seed
    from tests.http.http_support import LiveServer

    kube = seed(FakeKube()).start()
    with tempfile.TemporaryDirectory(prefix="console-bench-") as tmp:
        service, tokens, pending, draft = demo(Path(tmp), kube, "bundled:all-MiniLM-L6-v2")
        live = LiveServer(build_app(service, None, service.settings)).start()
        pages = ["/ui/executions", f"/ui/executions/{pending}", "/ui/drafts", f"/ui/drafts/{draft}",
                 "/ui/library", "/ui/library?q=pod+keeps+restarting", "/ui/library/pod-oomkilled",
                 "/ui/dashboards/performance", "/ui/dashboards/learning", "/ui/dashboards/storage",
                 "/ui/dashboards/incidents"]
        try:
            with httpx.Client(base_url=live.url, timeout=60) as web:
                login = web.get("/ui/login")
                csrf = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)
                web.post("/ui/login", data={"token": tokens["alice"], "csrf_token": csrf})
                print(f"| page | median ms | p95 ms | bytes |  ({RUNS} runs each, {len(service.list_runbooks())} "
                      "runbooks)\n|---|---|---|---|")
                for page in pages:
                    assert web.get(page).status_code == 200, page
                    times = []
                    for _ in range(RUNS):
                        started = time.perf_counter()
                        answer = web.get(page)
                        times.append((time.perf_counter() - started) * 1000)
                    print(f"| `{page}` | {statistics.median(times):.1f} | "
                          f"{percentile(times, 95):.1f} | {len(answer.content):,} |")
        finally:
            live.stop()
            kube.stop()


if __name__ == "__main__":
    main()
