"""Retrieval quality on every labelled query set, each on its own library and on one library
mixing all corpora; near-duplicates from two sources; alerts that have no runbook.

For each set: R@1, R@3 and MRR of what `search` lists (hits above the listing floor), and R@1
of what is *answered* (the top hit is above the confidence bar: `confident` is true). For the
sets of questions with no runbook: how many get a confident answer.

    .venv/bin/python benchmarks/retrieval_quality.py [--model hash:256] [--show-misses]
        [--libraries prometheus,kubevirt,gitlab,mixed,duplicates]
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict

from _common import table
from retrieval_sets import indexed_service, own_queries, rank_of, ranked, shared_negatives, shared_queries


def evaluate(svc, queries, prefix: dict[str, tuple[str, ...]], show: bool) -> tuple[list[list[object]], list[float]]:
    from faultmaven_runbooks.search.confidence import CONFIDENT, SHOWN

    groups: dict[str, list] = defaultdict(list)
    latencies = []
    folded = [0, 0]  # top hits standing for more than one runbook (near-duplicates), of all top hits
    for q in queries:
        if q.corpus not in prefix:
            continue
        expected = {f"{folder}/{p}" if folder else p for folder in prefix[q.corpus] for p in q.expected}
        started = time.perf_counter()
        hits = ranked(svc, q.text)
        latencies.append(time.perf_counter() - started)
        rank = rank_of(hits, expected) if expected else None
        if hits and expected:
            folded[0] += len(hits[0][1]) > 1
            folded[1] += 1
        answered = bool(hits) and hits[0][0] >= CONFIDENT
        shown = rank is not None and hits[rank - 1][0] >= SHOWN  # `search` lists it
        groups[q.set].append((rank if shown else None, answered, bool(expected)))
        if show and expected and rank != 1:
            top = sorted(hits[0][1])[0] if hits else "-"
            print(f"  miss [{q.set}] {q.text[:70]!r}: rank {rank}, top {top} ({hits[0][0] if hits else 0:.2f})")
    rows = []
    for name, results in groups.items():
        n = len(results)
        if results[0][2]:
            r1 = sum(r == 1 for r, _, _ in results) / n
            r3 = sum(r is not None and r <= 3 for r, _, _ in results) / n
            mrr = sum(1 / r for r, _, _ in results if r) / n
            shown = sum(r == 1 and a for r, a, _ in results) / n
            rows.append([name, n, r1, r3, mrr, shown, "-"])
        else:
            rows.append([name, n, "-", "-", "-", "-", f"{sum(a for _, a, _ in results)}/{n}"])
    return rows, latencies, folded


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=None, help="embedding model (default: the bundled MiniLM)")
    parser.add_argument("--libraries", default="prometheus,kubevirt,gitlab,mixed,duplicates")
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()
    queries = shared_queries() + shared_negatives() + own_queries()
    for name in args.libraries.split(","):
        svc, prefix, report = indexed_service(name, args.model)
        mirror = svc.index.mirror()
        print(f"\n## library: {name} ({len(mirror.docs)} runbooks, {mirror.count} chunks; "
              f"indexed {report.indexed} now in {report.seconds:.0f}s)")
        wanted = queries
        if name == "mixed":  # another corpus may hold a runbook for an alert its own corpus lacks
            wanted = [q for q in queries if q.expected]
        rows, latencies, folded = evaluate(svc, wanted, prefix, args.show_misses)
        print(table(["query set", "queries", "R@1", "R@3", "MRR", "R@1 answered", "confident (no runbook)"], rows))
        if name == "duplicates":
            print(f"top hits that fold two copies into one (also_in): {folded[0]} of {folded[1]}")
        latencies.sort()
        print(f"in-process search: median {latencies[len(latencies) // 2] * 1000:.1f} ms over {len(latencies)} queries")


if __name__ == "__main__":
    main()
