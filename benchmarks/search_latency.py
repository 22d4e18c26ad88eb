"""Warm search latency through the MCP client against the real server (stdio subprocess) on a
library of about 10,000 chunks, and the serving process's peak memory with the model loaded.

    .venv/bin/python benchmarks/search_latency.py [--copies 16] [--queries 200]

The first run embeds the synthetic library (minutes); later runs reuse the index incrementally.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import anyio
from _common import WORK, median, percentile, process_memory_mb, scratch, server_pid, service, table
from mcp import Client, StdioServerParameters
from synthetic import SERVICES, build

QUERIES = [
    "pod keeps restarting CrashLoopBackOff", "container OOMKilled exit code 137", "ENOSPC no space left on device",
    "x509: certificate has expired", "image pull back-off unauthorized", "node NotReady kubelet stopped posting",
    "too many connections to postgres", "etcd fsync latency high", "HPA stuck at max replicas",
    "DNS lookup no such host", "ingress returning 502 bad gateway", "kafka consumer lag growing",
    "redis memory full sessions", "job backoff limit exceeded",
    "rollout stuck progress deadline exceeded", "PVC pending no storage class", "CPU throttling high latency",
    "evicted pods disk pressure", "network policy blocks traffic", "too many open files",
]


async def measure(library: Path, data: Path, count: int) -> tuple[list[float], float, int]:
    exe = Path(sys.executable).with_name("faultmaven-runbooks")
    params = StdioServerParameters(command=str(exe), args=["serve", "--library", str(library), "--data", str(data)])
    async with Client(params) as client:
        await client.call_tool("search", {"query": "warm up the index"})
        latencies = []
        for i in range(count):  # distinct queries: no cache can answer them
            query = f"{QUERIES[i % len(QUERIES)]} in {SERVICES[i % len(SERVICES)]} {i}"
            started = time.perf_counter()
            result = await client.call_tool("search", {"query": query, "limit": 10})
            latencies.append((time.perf_counter() - started) * 1000)
            assert not result.is_error, result.content
        total = result.structured_content["total"]
        pid = server_pid(data)
        return latencies, process_memory_mb(pid)[1] if pid else float("nan"), total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=16)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--model", default=None, help="embedding model (default: the configured one)")
    args = parser.parse_args()
    if args.model:
        os.environ["FAULTMAVEN_RUNBOOKS_EMBEDDING_MODEL"] = args.model  # the server subprocess inherits it
    library = WORK / f"library-x{args.copies}"
    files = build(library, args.copies)
    data = scratch(f"latency-x{args.copies}-{(args.model or 'default').replace(':', '_')}", fresh=False)
    svc = service(library, data)
    started = time.perf_counter()
    report = svc.reindex()
    chunks = svc.index.collection.count()
    took = time.perf_counter() - started
    print(f"library: {files} runbooks, {chunks} chunks (indexed {report.indexed} in {took:.0f}s)")
    del svc
    rows = []
    for run in range(args.runs):
        latencies, peak, _ = anyio.run(measure, library, data, args.queries)
        rows.append([run + 1, args.queries, median(latencies), percentile(latencies, 50),
                     percentile(latencies, 99), peak])
    print(table(["run", "queries", "median ms", "p50 ms", "p99 ms", "server peak RSS MB"], rows))
    print(f"median over runs: p50 {median([r[3] for r in rows]):.1f} ms, p99 {median([r[4] for r in rows]):.1f} ms, "
          f"peak RSS {median([r[5] for r in rows]):.0f} MB")


if __name__ == "__main__":
    main()
