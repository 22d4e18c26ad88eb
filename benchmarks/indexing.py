"""Indexing speed.

1. From scratch, this checkout against a baseline checkout (by default the `main` branch,
   exported with `git archive` into benchmarks/.work): the same library indexed on a fresh
   data dir with the real model, runs alternating, each in its own process. The library is
   the three eval corpora in one (prometheus-operator, kubevirt, gitlab.com: about 600
   runbooks). Prints wall time, chunks and chunks/s per run, medians and the speed-up.
2. Large writes while searching: a 470 KB runbook and a 1.7 MB file of 100,000 headings are
   written into an indexed library and re-indexed, as an HTTP create would, while another
   thread searches without pause. Prints the time to index each, the searches' latency during
   the write, and the process's peak RSS.
3. Re-indexing an unchanged library of about 1,000 runbooks: the whole `faultmaven-runbooks
   index` command and the sync inside it. No text is embedded on this path, so the library is
   built once with the fast test embedder to save minutes; the command then runs with the same
   embedder name (another name would be a model change and rebuild the index).

    .venv/bin/python benchmarks/indexing.py [--runs 2] [--baseline main] [--library DIR]

The machine is shared while helpers work: read the load average printed with each run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from _common import ROOT, WORK, median, scratch, service, table
from synthetic import build

PROBE = """
import json, logging, sys, time
from pathlib import Path
logging.disable(logging.WARNING)
from faultmaven_runbooks.service import RunbookService
from faultmaven_runbooks.settings import Settings
svc = RunbookService(Settings(library_dir=Path(sys.argv[1]), data_dir=Path(sys.argv[2])))
svc.embed(["load the model outside the timing"])
started = time.perf_counter()
report = svc.reindex()
print(json.dumps({"seconds": time.perf_counter() - started, "chunks": report.chunks, "runbooks": report.indexed}))
"""


def baseline_source(ref: str) -> Path:
    """The baseline's code, exported once per commit (no worktree, nothing checked out)."""
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", ref], capture_output=True, text=True,
                            check=True).stdout.strip()
    target = WORK / f"baseline-{commit[:12]}"
    if not (target / "faultmaven_runbooks").exists():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit, "faultmaven_runbooks"],
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def index_once(source: Path, library: Path, name: str) -> dict:
    data = scratch(f"indexing-{name}")
    env = {**os.environ, "PYTHONPATH": str(source), "HF_HUB_OFFLINE": "1"}
    env.pop("FAULTMAVEN_RUNBOOKS_EMBEDDING_MODEL", None)
    out = subprocess.run([sys.executable, "-c", PROBE, str(library), str(data)], cwd=source, env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def from_scratch(runs: int, baseline: str, library: Path) -> list[list[object]]:
    sources = {"baseline": baseline_source(baseline), "this checkout": ROOT}
    rows = []
    for run in range(runs):
        for name, source in sources.items():
            load = os.getloadavg()[0]
            got = index_once(source, library, name.replace(" ", "-"))
            rows.append([run + 1, name, got["runbooks"], got["chunks"], got["seconds"],
                         got["chunks"] / got["seconds"], f"{load:.1f}"])
    return rows


LARGE_WRITE = r"""
import json, logging, resource, sys, threading, time
from pathlib import Path
logging.disable(logging.WARNING)
from faultmaven_runbooks.service import RunbookService
from faultmaven_runbooks.settings import Settings
library, data = Path(sys.argv[1]), Path(sys.argv[2])
svc = RunbookService(Settings(library_dir=library, data_dir=data))
svc.reindex()
svc.search("warm up")
out = {}
for name, text in (
    ("470 KB runbook", "# Storage handbook\n\n" + "\n\n".join(
        f"## Case {i}\n\n" + "When the volume fills, check the writer, rotate logs and extend the claim. " * 12
        for i in range(500))),
    ("1.7 MB, 100,000 headings", "# Generated index\n\n" + "".join(f"## {i}\n\nv{i}\n\n" for i in range(100_000))),
):
    path = library / "large.md"
    path.write_text(text)
    writer = threading.Thread(target=svc.reindex, args=(["large.md"],))
    started = time.perf_counter()
    writer.start()
    latencies = []
    while writer.is_alive():
        t = time.perf_counter()
        svc.search("pod keeps restarting CrashLoopBackOff")
        latencies.append((time.perf_counter() - t) * 1000)
    writer.join()
    latencies.sort()
    out[name] = {"kb": len(text) // 1024, "seconds": time.perf_counter() - started, "searches": len(latencies),
                 "p50_ms": latencies[len(latencies) // 2] if latencies else None,
                 "max_ms": latencies[-1] if latencies else None}
out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def large_writes() -> tuple[list[list[object]], float]:
    library = scratch("large-write-library")
    for path in sorted((ROOT / "runbooks" / "static").rglob("*.md")):
        target = library / path.relative_to(ROOT / "runbooks")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text())
    out = subprocess.run([sys.executable, "-c", LARGE_WRITE, str(library), str(scratch("large-write-data"))],
                         cwd=ROOT, env={**os.environ, "HF_HUB_OFFLINE": "1"}, capture_output=True, text=True,
                         check=True)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    peak = got.pop("peak_rss_mb")
    rows = [[name, r["kb"], r["seconds"], r["searches"], r["p50_ms"], r["max_ms"]] for name, r in got.items()]
    return rows, peak


def unchanged(runs: int) -> list[list[object]]:
    library = WORK / "library-x24"
    files = build(library, 24)
    data = scratch("unchanged", fresh=False)
    first = service(library, data, "hash:384").reindex()
    exe = Path(sys.executable).with_name("faultmaven-runbooks")
    env = {**os.environ, "FAULTMAVEN_RUNBOOKS_EMBEDDING_MODEL": "hash:384"}
    rows = []
    for run in range(runs):
        started = time.perf_counter()
        out = subprocess.run([str(exe), "index", "--library", str(library), "--data", str(data)],
                             env=env, capture_output=True, text=True, check=True)
        wall = time.perf_counter() - started
        sync = float(out.stderr.rsplit(" in ", 1)[1].split("s")[0])
        assert "indexed 0 " in out.stderr, out.stderr
        rows.append([run + 1, files, first.chunks or "-", wall, sync])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--baseline", default="main", help="git ref to compare with")
    parser.add_argument("--library", type=Path, default=None, help="default: the three eval corpora in one")
    parser.add_argument("--skip-scratch", action="store_true")
    args = parser.parse_args()
    if not args.skip_scratch:
        if args.library is None:
            from retrieval_sets import library as eval_library

            args.library = eval_library("mixed")[0]
        rows = from_scratch(args.runs, args.baseline, args.library)
        print(table(["run", "code", "runbooks", "chunks", "seconds", "chunks/s", "load avg"], rows))
        seconds = {name: median([r[4] for r in rows if r[1] == name]) for name in ("baseline", "this checkout")}
        print(f"median: baseline {seconds['baseline']:.0f} s, this checkout {seconds['this checkout']:.0f} s, "
              f"{seconds['baseline'] / seconds['this checkout']:.2f}x faster\n")
    rows, peak = large_writes()
    print(table(["write", "KB", "seconds to index", "searches meanwhile", "search p50 ms", "search max ms"], rows))
    print(f"peak RSS of that process: {peak:.0f} MB (load avg {os.getloadavg()[0]:.1f})\n")
    rows = unchanged(max(args.runs, 5))
    print(table(["run", "runbooks", "chunks (first build)", "index command s", "sync s"], rows))
    print(f"median: command {median([r[3] for r in rows]):.2f} s, sync {median([r[4] for r in rows]):.2f} s")


if __name__ == "__main__":
    main()
