"""How much an agent reads per `execute`: the text of the MCP tool result, measured through the
real SDK client (in memory) against the tests' fake Kubernetes API.

    .venv/bin/python benchmarks/execute_result_size.py [--library runbooks] [--runs 3]

Runs the default plan (diagnosis and verification reads) of every runbook with the full
context of the fake cluster's crash-looping web deployment, and prints the sizes; the shipped
crashloop runbook's result must stay under 8,000 characters.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import anyio
from _common import ROOT, percentile, table

LIMIT = 8000


async def _sizes(library: Path, data: Path, kube_url: str, only: list[str] | None) -> dict[str, tuple[int, str]]:
    from kubernetes import client as k8s
    from mcp import Client
    from mcp.server import MCPServer

    from faultmaven_runbooks.adapters.mcp import execution
    from faultmaven_runbooks.service import RunbookService
    from faultmaven_runbooks.settings import Settings
    from tests.executor.fake_kube import CTX

    settings = Settings(library_dir=library, data_dir=data, embedding_model="hash:256")
    service = RunbookService(settings)
    service.executions = service.make_executions(kube_configuration=k8s.Configuration(host=kube_url))
    server = MCPServer("size-benchmark")
    execution.register(server, service)
    ids = only or sorted(rb.id for _, (_, rb) in service.library.scan().items())
    out = {}
    async with Client(server) as client:
        for rid in ids:
            result = await client.call_tool("execute", {"runbook_id": rid, "context": CTX})
            text = "".join(getattr(c, "text", "") for c in result.content)
            out[rid] = (len(text), "error" if result.is_error else "ok")
    service.executions.close()
    return out


def measure(library: Path, only: list[str] | None = None) -> dict[str, tuple[int, str]]:
    """runbook id -> (characters of the execute result, ok|error)."""
    from tests.executor.fake_kube import FakeKube, seed

    fake = seed(FakeKube()).start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            return anyio.run(_sizes, library, Path(tmp), fake.url, only)
    finally:
        fake.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--library", type=Path, default=ROOT / "runbooks")
    ap.add_argument("--runs", type=int, default=3, help="repeat the crashloop measurement")
    args = ap.parse_args()
    crash = [measure(args.library, ["pod-crashloopbackoff"])["pod-crashloopbackoff"][0] for _ in range(args.runs)]
    sizes = measure(args.library)
    values = [n for n, _ in sizes.values()]
    print(f"library: {args.library} ({len(sizes)} runbooks), default plan, full context, fake cluster")
    print(table(["runbooks", "median chars", "p90 chars", "max chars", "max runbook"],
                [[len(values), int(statistics.median(values)), int(percentile(values, 90)), max(values),
                  max(sizes, key=lambda k: sizes[k][0])]]))
    print(f"pod-crashloopbackoff execute result: {crash} characters (limit {LIMIT})")
    return 0 if max(crash) < LIMIT else 1


if __name__ == "__main__":
    sys.exit(main())
