"""The first search on a fresh data dir, through MCP over stdio: how long until it answers,
what it says, and how long until the whole library is indexed.

A fresh data dir means nothing is indexed yet; the server indexes in the background from
start and every search answers at once from what is indexed so far. The compiled model is
taken from the usual cache (compiling it is once per machine and model version).

    .venv/bin/python benchmarks/first_answer.py [--runs 3] [--library DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import anyio
from _common import ROOT, median, scratch, table
from mcp import Client, StdioServerParameters

QUERY = "pod keeps restarting with CrashLoopBackOff after a deploy"


async def first_answer(library: Path, data: Path) -> dict:
    exe = Path(sys.executable).with_name("faultmaven-runbooks")
    params = StdioServerParameters(command=str(exe), args=["serve", "--library", str(library), "--data", str(data)],
                                   env={**os.environ, "HF_HUB_OFFLINE": "1"})
    started = time.perf_counter()
    async with Client(params) as client:
        connected = time.perf_counter() - started
        t = time.perf_counter()
        result = await client.call_tool("search", {"query": QUERY})
        first = time.perf_counter() - t
        content = result.structured_content or {}
        message = content.get("message") or ""
        while (content.get("index") or {}).get("indexing"):
            await anyio.sleep(0.5)
            content = (await client.call_tool("search", {"query": QUERY})).structured_content or {}
        indexed = time.perf_counter() - started
        return {"connect": connected, "first": first, "message": message, "indexed": indexed,
                "runbooks": (content.get("index") or {}).get("indexed_runbooks")}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--library", type=Path, action="append",
                        help="library to start with (repeatable; default: the shipped runbooks and the eval corpora)")
    args = parser.parse_args()
    libraries = args.library
    if not libraries:
        from retrieval_sets import library

        libraries = [ROOT / "runbooks", library("mixed")[0]]
    rows = []
    for path in libraries:
        for run in range(args.runs):
            got = anyio.run(first_answer, path, scratch("first-answer"))
            rows.append([path.name, run + 1, got["runbooks"], got["connect"], got["first"], got["indexed"],
                         f"{os.getloadavg()[0]:.1f}", got["message"][:60]])
    print(table(["library", "run", "runbooks", "handshake s", "first search s", "all indexed s", "load avg",
                 "first message"], rows))
    for name in dict.fromkeys(r[0] for r in rows):
        mine = [r for r in rows if r[0] == name]
        print(f"{name}: first search median {median([r[4] for r in mine]):.2f} s, "
              f"fully indexed after {median([r[5] for r in mine]):.0f} s")


if __name__ == "__main__":
    main()
