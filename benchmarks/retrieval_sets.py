"""Libraries and labelled query sets for the retrieval benchmarks.

Libraries: the prometheus-operator runbooks (../shared/eval), the kubevirt and gitlab.com
corpora (../shared/eval/extra-corpora), all three mixed in one library, and the
prometheus-operator runbooks twice (the original and a reworded import of the same alerts),
for near-duplicates.

Query sets: the shared alert texts (`alert_queries.jsonl`, no-runbook alerts from
`alert_queries_all.jsonl`), and our own: `queries/prometheus_incidents.jsonl` (problems as an
on-call engineer types them, for the prometheus-operator runbooks, and some the library does
not cover) and `queries/extra_corpora.jsonl` (KubeVirt alerts written as KubeVirt's rules
phrase them, KubeVirt incidents, gitlab.com incidents). Expected paths are relative to each
corpus; a hit counts when its path, or a near-duplicate it lists in `also_in`, is expected.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from _common import EVAL, ROOT, WORK, scratch, service

EXTRA = EVAL / "extra-corpora"
CORPORA = {
    "prometheus": EVAL / "prometheus-operator-runbooks",
    "kubevirt": EXTRA / "kubevirt-runbooks",
    "gitlab": EXTRA / "gitlab-com-runbooks",
}
OWN_QUERIES = [ROOT / "benchmarks" / "queries" / name for name in ("prometheus_incidents.jsonl", "extra_corpora.jsonl")]


@dataclass
class Query:
    set: str  # e.g. 'prometheus / alert name'
    corpus: str
    text: str
    expected: list[str]  # paths relative to the corpus; empty: no runbook covers it


def _load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def shared_queries() -> list[Query]:
    out = []
    for row in _load(EVAL / "alert_queries.jsonl"):
        out.append(Query("prometheus / alert name", "prometheus", row["alertname"], [row["expected_runbook"]]))
        out.append(Query("prometheus / summary + description", "prometheus",
                         f"{row['summary_rendered']} {row['description_rendered']}", [row["expected_runbook"]]))
    return out


def shared_negatives() -> list[Query]:
    out = []
    for row in _load(EVAL / "alert_queries_all.jsonl"):
        if not row.get("expected_runbook"):
            out.append(Query("prometheus / no runbook, by name", "prometheus", row["alertname"], []))
            out.append(Query("prometheus / no runbook, summary + description", "prometheus",
                             f"{row['summary_rendered'] or ''} {row['description_rendered']}".strip(), []))
    return out


def own_queries() -> list[Query]:
    out = []
    for row in (row for path in OWN_QUERIES for row in _load(path)):
        corpus, expected = row["corpus"], row["expected"]
        kind = "" if expected else "no runbook, "
        if row["style"] == "alert":
            out.append(Query(f"{corpus} / {kind}alert name", corpus, row["alertname"], expected))
            out.append(Query(f"{corpus} / {kind}summary + description", corpus,
                             f"{row['summary']} {row['description']}", expected))
        else:
            out.append(Query(f"{corpus} / {kind}incident description", corpus, row["text"], expected))
    return out


def _copy_tree(source: Path, target: Path) -> None:
    for path in sorted(source.rglob("*.md")):
        out = target / path.relative_to(source)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, out)


def _reword(text: str) -> str:
    """Another source documenting the same alert: no front matter, other section names, a
    line of its own. What two teams' copies of one upstream runbook look like."""
    text = re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.S)
    text = text.replace("## Meaning", "## Summary").replace("## Mitigation", "## Resolution")
    return f"> Imported from the platform team's wiki.\n\n{text.strip()}\n\nOwner: platform on-call.\n"


def library(name: str) -> tuple[Path, dict[str, tuple[str, ...]]]:
    """(library root, corpus -> its folders inside that root, '' when the corpus is the root).
    A corpus held twice (the duplicates library) has two folders: either copy is a right answer."""
    if name in CORPORA:
        return CORPORA[name], {name: ("",)}
    root = WORK / "libraries" / name
    marker = root / ".built"
    if name == "mixed":
        prefixes = {corpus: (corpus,) for corpus in CORPORA}
    elif name == "duplicates":
        prefixes = {"prometheus": ("upstream", "team-wiki")}
    else:
        raise SystemExit(f"unknown library {name!r}")
    if not marker.exists():
        shutil.rmtree(root, ignore_errors=True)
        if name == "mixed":
            for corpus, source in CORPORA.items():
                _copy_tree(source, root / corpus)
        else:
            _copy_tree(CORPORA["prometheus"], root / "upstream")
            for path in sorted(CORPORA["prometheus"].rglob("*.md")):
                out = root / "team-wiki" / path.relative_to(CORPORA["prometheus"])
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_text(_reword(path.read_text()))
        marker.write_text("built\n")
    return root, prefixes


def indexed_service(name: str, model: str | None = None):
    """A service on the library, its index kept between runs (incremental by content hash)."""
    root, prefixes = library(name)
    data = scratch(f"retrieval-{name}-{(model or 'default').replace(':', '_')}", fresh=False)
    svc = service(root, data, model)
    svc.embed(["load the model"])  # else the first searches answer from keywords while it loads
    report = svc.reindex()
    return svc, prefixes, report


def ranked(svc, text: str, limit: int = 10) -> list[tuple[float, set[str]]]:
    """The whole ranking, confidence bar or not: (relevance, paths the hit stands for)."""
    from faultmaven_runbooks.search.query import QueryText

    svc.ready()
    ranking = svc._searcher.rank(QueryText.parse(text))
    out = []
    for m in ranking.matches[:limit]:
        paths = {ranking.kw.docs[m.doc].path} | {ranking.kw.docs[d].path for d in m.also}
        out.append((m.relevance, paths))
    return out


def rank_of(hits: list[tuple[float, set[str]]], expected: set[str]) -> int | None:
    for n, (_, paths) in enumerate(hits, 1):
        if paths & expected:
            return n
    return None
