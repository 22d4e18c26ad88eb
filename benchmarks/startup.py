"""Start-up: process start to an answered `tools/list` over stdio, median of several runs.

    .venv/bin/python benchmarks/startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import anyio
from _common import ROOT, median, scratch, table
from mcp import Client, StdioServerParameters


async def once(data: Path) -> tuple[float, int]:
    exe = Path(sys.executable).with_name("faultmaven-runbooks")
    params = StdioServerParameters(command=str(exe),
                                   args=["serve", "--library", str(ROOT / "runbooks"), "--data", str(data)])
    started = time.perf_counter()
    async with Client(params) as client:
        tools = (await client.list_tools()).tools
        return time.perf_counter() - started, len(tools)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    data = scratch("startup")
    times = []
    for _ in range(args.runs):
        seconds, count = anyio.run(once, data)
        times.append(seconds)
    print(table(["runs", "tools", "median s", "min s", "max s"],
                [[args.runs, count, median(times), min(times), max(times)]]))


if __name__ == "__main__":
    main()
