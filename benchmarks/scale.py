"""Cost as the library grows: warm search latency through MCP (a real `serve` process over
stdio) and the serving process's memory, at about 1k, 10k and 100k chunks.

The libraries are real runbooks (the shipped ones and the three eval corpora) copied under
team folders, each copy renamed ("Pod CrashLoopBackOff (payments-3)"), until the chunk count
is reached. Embedding 100k chunks with the model would take the better part of an hour on two
cores and measure nothing new, so a copy's chunks reuse the vectors of the original's chunks
(embedded once with the real model); the server then runs with the real model, unchanged.

    .venv/bin/python benchmarks/scale.py [--sizes 1000,10000,100000] [--queries 200] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import time
from pathlib import Path

import anyio
import numpy as np
from _common import ROOT, WORK, median, percentile, process_memory_mb, server_pid, table
from mcp import Client, StdioServerParameters
from retrieval_sets import CORPORA, own_queries, shared_queries

TEAMS = ["payments", "checkout", "search", "ledger", "identity", "billing", "gateway", "catalog", "orders",
         "shipping", "media", "pricing", "fraud", "analytics"]
SUFFIX = re.compile(r" \((?:" + "|".join(TEAMS) + r")-\d+\)")


def sources() -> list[tuple[Path, Path]]:
    """(corpus root, file) for every base runbook."""
    roots = [ROOT / "runbooks", *CORPORA.values()]
    return [(root, path) for root in roots for path in sorted(root.rglob("*.md"))]


def rename(text: str, team: str) -> str:
    """A copy for another team: the title (front matter and first heading) carries the team."""
    text = re.sub(r"^(title: .+)$", rf"\1 ({team})", text, count=1, flags=re.M)
    text = re.sub(r"^(id: .+)$", rf"\1-{team}", text, count=1, flags=re.M)
    return re.sub(r"^(# .+)$", rf"\1 ({team})", text, count=1, flags=re.M)


def build(target: Path, chunks: int) -> int:
    """Copies of the base runbooks until about `chunks` chunks; returns the file count."""
    from faultmaven_runbooks.library.markdown import parse_runbook
    from faultmaven_runbooks.search.text import chunk_runbook

    marker = target / ".built"
    if marker.exists():
        return int(marker.read_text())
    shutil.rmtree(target, ignore_errors=True)
    base = []
    for root, path in sources():
        raw = path.read_bytes()
        parsed = parse_runbook(raw, path.name).runbook
        if parsed is not None:
            base.append((root, path, raw.decode("utf-8", "replace"), len(chunk_runbook(parsed))))
    total, files, copy = 0, 0, 0
    while total < chunks:
        team = f"{TEAMS[copy % len(TEAMS)]}-{copy}"
        for root, path, text, count in base:
            out = target / team / root.name / path.relative_to(root)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(rename(text, team) if copy else text)
            total, files = total + count, files + 1
            if total >= chunks:
                break
        copy += 1
    marker.write_text(str(files))
    return files


class ReusingEmbedder:
    """The real model for original chunks; a copy's chunk gets its original's vector."""

    def __init__(self, real):
        self.real = real
        self.name = real.name
        self.cache: dict[str, np.ndarray] = {}

    @property
    def dimension(self) -> int:
        return self.real.dimension

    def embed(self, texts: list[str]) -> np.ndarray:
        keys = [SUFFIX.sub("", t) for t in texts]
        missing = list(dict.fromkeys(k for k in keys if k not in self.cache))
        if missing:
            for key, vector in zip(missing, self.real.embed(missing), strict=True):
                self.cache[key] = vector
        return np.stack([self.cache[k] for k in keys])


def index(library: Path, data: Path, embedder: ReusingEmbedder) -> int:
    from faultmaven_runbooks.service import RunbookService
    from faultmaven_runbooks.settings import Settings

    svc = RunbookService(Settings(library_dir=library, data_dir=data), embedder=embedder)
    svc.reindex()
    return svc.index.mirror().count


async def measure(library: Path, data: Path, queries: list[str]) -> tuple[list[float], float, float, float]:
    exe = Path(sys.executable).with_name("faultmaven-runbooks")
    params = StdioServerParameters(command=str(exe), args=["serve", "--library", str(library), "--data", str(data)],
                                   env={**os.environ, "HF_HUB_OFFLINE": "1"})
    async with Client(params) as client:
        started = time.perf_counter()
        while True:  # warm: the mirror and keyword index built, the model loaded
            result = await client.call_tool("search", {"query": "warm up the index"})
            index = (result.structured_content or {}).get("index") or {}
            if not index.get("indexing") and "still loading" not in (result.structured_content.get("message") or ""):
                break
            await anyio.sleep(0.5)
        ready = time.perf_counter() - started
        latencies = []
        for query in queries:
            t = time.perf_counter()
            result = await client.call_tool("search", {"query": query, "limit": 5})
            latencies.append((time.perf_counter() - t) * 1000)
            assert not result.is_error, result.content
        pid = server_pid(data)
        rss, peak = process_memory_mb(pid) if pid else (float("nan"), float("nan"))
        return latencies, rss, peak, ready


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from faultmaven_runbooks.search.embedder import make_embedder
    from faultmaven_runbooks.settings import Settings

    settings = Settings()
    embedder = ReusingEmbedder(make_embedder(settings.embedding_model, settings.model_cache))
    texts = list(dict.fromkeys(q.text for q in shared_queries() + own_queries()))
    queries = [texts[i % len(texts)] for i in range(args.queries)]  # distinct up to the set's size
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        library = WORK / f"scale-{size}"
        files = build(library, size)
        data = WORK / f"scale-{size}-data"
        started = time.perf_counter()
        chunks = index(library, data, embedder)
        built = time.perf_counter() - started
        print(f"{size}: {files} runbooks, {chunks} chunks (index built or checked in {built:.0f} s)", flush=True)
        for run in range(args.runs):
            latencies, rss, peak, ready = anyio.run(measure, library, data, queries)
            rows.append([size, files, chunks, run + 1, percentile(latencies, 50), percentile(latencies, 99),
                         rss, peak, ready, f"{os.getloadavg()[0]:.1f}"])
            print(table(["target", "runbooks", "chunks", "run", "p50 ms", "p99 ms", "RSS MB", "peak RSS MB",
                         "warm after s", "load avg"], rows[-1:]), flush=True)
    print()
    print(table(["target", "runbooks", "chunks", "run", "p50 ms", "p99 ms", "RSS MB", "peak RSS MB", "warm after s",
                 "load avg"], rows))
    for size in sorted({r[0] for r in rows}):
        mine = [r for r in rows if r[0] == size]
        print(f"{size}: median p50 {median([r[4] for r in mine]):.1f} ms, p99 {median([r[5] for r in mine]):.1f} ms, "
              f"RSS {median([r[6] for r in mine]):.0f} MB (peak {median([r[7] for r in mine]):.0f} MB)")


if __name__ == "__main__":
    main()
