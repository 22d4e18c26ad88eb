"""Indexing speed.

1. From scratch on the shipped library: indexing throughput (chunks/s, parse + chunk + embed +
   Chroma writes) against the raw embedding throughput of the model on the same chunk texts,
   taken as the faster of the embedder the server uses (the model compiled to ONNX) and the
   model run by sentence-transformers itself.
2. Re-indexing an unchanged library of about 1,000 runbooks: the whole `faultmaven-runbooks
   index` command and the sync inside it. No text is embedded on this path, so the library is
   built once with the fast test embedder to save minutes; the command then runs with the same
   embedder name (another name would be a model change and rebuild the index).

    .venv/bin/python benchmarks/indexing.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from _common import ROOT, WORK, median, scratch, service, table
from synthetic import build


def from_scratch(runs: int) -> list[list[object]]:
    from faultmaven_runbooks.search.embedder import load_sentence_transformer
    from faultmaven_runbooks.settings import BUNDLED_MODEL

    model = load_sentence_transformer(BUNDLED_MODEL)
    rows = []
    for run in range(runs):
        svc = service(ROOT / "runbooks", scratch(f"throughput-{run}"))  # a fresh dir: Chroma caches clients per path
        from faultmaven_runbooks.search.text import chunk_runbook

        texts = [c.text for _, (_, rb) in sorted(svc.library.scan().items()) for c in chunk_runbook(rb)]
        svc.embedder.embed(texts[:8])  # load the model outside both timings
        started = time.perf_counter()
        svc.embedder.embed(texts)  # all at once, as sentence-transformers below: both sort by length
        raw = len(texts) / (time.perf_counter() - started)
        model.encode(texts[:8])
        started = time.perf_counter()
        model.encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False)
        raw_st = len(texts) / (time.perf_counter() - started)
        started = time.perf_counter()
        report = svc.reindex()
        indexed = report.chunks / (time.perf_counter() - started)
        rows.append([run + 1, report.chunks, raw, raw_st, indexed, indexed / max(raw, raw_st)])
    return rows


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
        assert " 0 runbooks" in out.stderr.splitlines()[-1] or "indexed 0 " in out.stderr, out.stderr
        rows.append([run + 1, files, first.chunks or "-", wall, sync])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rows = from_scratch(args.runs)
    print(table(["run", "chunks", "raw ONNX chunks/s", "raw sentence-transformers chunks/s", "indexing chunks/s",
                 "ratio to the faster"], rows))
    print(f"median ratio: {median([r[5] for r in rows]):.3f}\n")
    rows = unchanged(max(args.runs, 5))
    print(table(["run", "runbooks", "chunks (first build)", "index command s", "sync s"], rows))
    print(f"median: command {median([r[3] for r in rows]):.2f} s, sync {median([r[4] for r in rows]):.2f} s")


if __name__ == "__main__":
    main()
