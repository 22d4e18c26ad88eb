"""HTTP load test: sustained search requests/s and p50/p99 latency at 1, 8 and 32 clients.

The server runs as its own process (`faultmaven-runbooks serve --transport streamable-http`) on
loopback; this script is the second process that drives it with httpx. Each level is bounded in
time and in request count. Exit status 1 if any request failed.

    .venv/bin/python benchmarks/http_load.py                    # shipped library, real model
    .venv/bin/python benchmarks/http_load.py --seconds 5 --model hash:256   # quick run
    .venv/bin/python benchmarks/http_load.py --url http://127.0.0.1:8080 --token $TOKEN  # a running server
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from _common import EVAL, ROOT, percentile, scratch, table

FALLBACK_QUERIES = [
    "pod CrashLoopBackOff restarting", "node disk almost full", "OOMKilled container memory limit",
    "deployment rollout stuck progress deadline", "high API latency p99", "certificate expires soon",
    "persistent volume filling up", "ImagePullBackOff registry", "DNS resolution failures coredns",
    "etcd leader changes", "HPA maxed out replicas", "job failed backoff limit",
]


def queries() -> list[str]:
    path = EVAL / "alert_queries.jsonl"
    if not path.exists():
        return FALLBACK_QUERIES
    out = []
    for line in path.read_text().splitlines():
        row = json.loads(line)
        text = f"{row.get('alertname', '')} {row.get('summary_rendered') or row.get('summary') or ''}".strip()
        if text:
            out.append(text[:300])
    return out or FALLBACK_QUERIES


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_http(library: Path, data: Path, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    """`serve --transport streamable-http` on a free loopback port, its output in data/server.log."""
    port = free_port()
    cmd = [sys.executable, "-m", "faultmaven_runbooks.adapters.cli.main", "serve", "--transport", "streamable-http",
           "--host", "127.0.0.1", "--port", str(port), "--library", str(library), "--data", str(data)]
    with open(data / "server.log", "wb") as log:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, "HF_HUB_OFFLINE": "1", **env}, stdout=log,
                                stderr=subprocess.STDOUT)
    return proc, f"http://127.0.0.1:{port}"


def start_server(args, token: str) -> tuple[subprocess.Popen, str]:
    env = {"FAULTMAVEN_RUNBOOKS_AUTH_TOKEN": token}
    if args.model:
        env["FAULTMAVEN_RUNBOOKS_EMBEDDING_MODEL"] = args.model
    return serve_http(args.library, scratch("http_load"), env)


def wait_ready(url: str, token: str, proc: subprocess.Popen | None, timeout: float) -> None:
    """Until a search answers and the whole library is indexed: a search never waits for
    indexing, so one answered early says nothing about the figures measured next."""
    deadline = time.time() + timeout
    headers = {"Authorization": f"Bearer {token}"}
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}; see its server.log under benchmarks/.work/")
        try:
            r = httpx.get(f"{url}/runbooks/search", params={"q": "warm up"}, headers=headers, timeout=120)
            health = httpx.get(f"{url}/runbooks/health", timeout=10).json()
            if r.status_code == 200 and "indexing" not in health \
                    and health.get("indexed_runbooks") == health.get("library_files"):
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise SystemExit("server did not become ready in time")


async def level(url: str, token: str, clients: int, seconds: float, max_requests: int, qs: list[str]) -> dict:
    latencies: list[float] = []
    errors: list[str] = []
    sent = 0
    stop_at = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, limits=limits,
                                 timeout=60) as client:

        async def worker(n: int) -> None:
            nonlocal sent
            i = n
            while time.perf_counter() < stop_at and sent < max_requests:
                sent += 1
                q = qs[i % len(qs)]
                i += clients
                t0 = time.perf_counter()
                try:
                    r = await client.get("/runbooks/search", params={"q": q, "limit": 5})
                    if r.status_code != 200 or "results" not in r.json():
                        errors.append(f"{r.status_code} {r.text[:120]}")
                        continue
                except httpx.HTTPError as exc:
                    errors.append(repr(exc))
                    continue
                latencies.append(time.perf_counter() - t0)

        started = time.perf_counter()
        await asyncio.gather(*(worker(n) for n in range(clients)))
        elapsed = time.perf_counter() - started
    return {"clients": clients, "requests": len(latencies) + len(errors), "errors": len(errors),
            "rps": len(latencies) / elapsed if elapsed else 0.0,
            "p50_ms": percentile(latencies, 50) * 1000 if latencies else float("nan"),
            "p99_ms": percentile(latencies, 99) * 1000 if latencies else float("nan"),
            "seconds": elapsed, "first_error": errors[0] if errors else ""}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="drive an already running server instead of starting one")
    parser.add_argument("--token", help="bearer token for --url")
    parser.add_argument("--library", type=Path, default=ROOT / "runbooks")
    parser.add_argument("--model", help="embedding model for the started server (default: the bundled model)")
    parser.add_argument("--clients", default="1,8,32")
    parser.add_argument("--seconds", type=float, default=15.0, help="duration of each level")
    parser.add_argument("--max-requests", type=int, default=20_000, help="cap per level")
    args = parser.parse_args()

    token = args.token or secrets.token_urlsafe(24)
    proc = None
    url = args.url
    if url is None:
        proc, url = start_server(args, token)
    try:
        t0 = time.time()
        wait_ready(url, token, proc, timeout=600)
        print(f"server ready at {url} in {time.time() - t0:.1f}s", file=sys.stderr)
        qs = queries()
        rows = []
        for clients in (int(c) for c in args.clients.split(",")):
            asyncio.run(level(url, token, clients, min(2.0, args.seconds), 200, qs))  # warm connections/threads
            r = asyncio.run(level(url, token, clients, args.seconds, args.max_requests, qs))
            rows.append([r["clients"], r["requests"], r["errors"], r["rps"], r["p50_ms"], r["p99_ms"], r["seconds"]])
            if r["errors"]:
                print(f"errors at {clients} clients, first: {r['first_error']}", file=sys.stderr)
        health = httpx.get(f"{url}/runbooks/health", timeout=10).json()
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
    print(f"HTTP search load: GET /runbooks/search, {health.get('indexed_runbooks')} runbooks / "
          f"{health.get('indexed_chunks')} chunks, model {health.get('embedding_model')}, {os.cpu_count()} CPUs, "
          f"{len(qs)} distinct queries")
    print(table(["clients", "requests", "errors", "req/s", "p50 ms", "p99 ms", "seconds"], rows))
    return 1 if any(row[2] for row in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
