"""Retrieval quality on ../shared/eval: the prometheus-operator runbooks as the library and
real alert texts as queries. Prints recall@1, recall@3 and MRR for two query styles, and how
many alerts that have no runbook still get a confident match.

    make bench  (or)  .venv/bin/python benchmarks/retrieval_quality.py [--model hash:256]
"""

from __future__ import annotations

import argparse
import json

from _common import EVAL, scratch, service, table

LIBRARY = EVAL / "prometheus-operator-runbooks"


def load(name: str) -> list[dict]:
    return [json.loads(line) for line in (EVAL / name).read_text().splitlines() if line.strip()]


def evaluate(svc, rows: list[dict], style: str) -> dict:
    r1 = r3 = rr = 0.0
    misses = []
    for row in rows:
        query = row["alertname"] if style == "name" else f"{row['summary_rendered']} {row['description_rendered']}"
        paths = [hit.path for hit in svc.search(query, limit=10).results]
        expected = row["expected_runbook"]
        rank = paths.index(expected) + 1 if expected in paths else None
        r1 += rank == 1
        r3 += rank is not None and rank <= 3
        rr += 1 / rank if rank else 0
        if rank != 1:
            misses.append((row["alertname"], paths[:1]))
    n = len(rows)
    return {"R@1": r1 / n, "R@3": r3 / n, "MRR": rr / n, "n": n, "misses": misses}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=None, help="embedding model (default: the bundled MiniLM)")
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()
    svc = service(LIBRARY, scratch("retrieval"), args.model)
    svc.reindex()
    queries = load("alert_queries.jsonl")
    rows = []
    for style, label in (("name", "alert name"), ("text", "summary + description")):
        result = evaluate(svc, queries, style)
        rows.append([label, result["n"], result["R@1"], result["R@3"], result["MRR"]])
        if args.show_misses:
            for miss in result["misses"]:
                print("  miss", style, *miss)
    print(table(["query style", "queries", "R@1", "R@3", "MRR"], rows))
    negatives = [r for r in load("alert_queries_all.jsonl") if not r.get("expected_runbook")]
    wrong = {"name": 0, "text": 0}
    for row in negatives:
        for style in wrong:
            query = row["alertname"] if style == "name" else f"{row['summary_rendered']} {row['description_rendered']}"
            wrong[style] += bool(svc.search(query, limit=10).results)
    print(f"\nalerts with no runbook given a confident match: "
          f"{wrong['name']}/{len(negatives)} by name, {wrong['text']}/{len(negatives)} by summary + description")


if __name__ == "__main__":
    main()
