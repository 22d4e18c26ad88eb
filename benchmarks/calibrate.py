"""Fit the confidence model (faultmaven_runbooks/search/confidence.py) and print its ROC.

Training data: the prometheus-operator corpus only, so kubevirt and gitlab.com stay held out.
Positives are the 123 shared alerts asked by name and by summary + description, and our 68
incident descriptions for the same runbooks (benchmarks/queries/prometheus_incidents.jsonl),
so the model is not fitted to one way of asking. Negatives
come two ways: the other candidates of each query, and each query asked again with its own
runbook removed from the library, which is what an alert without a runbook looks like when a
sibling exists (the hard case). The 33 real no-runbook alerts are *not* trained on: they are
the ROC's negatives, with our 10 incidents the corpus does not cover.

1. Ranking weights: pairwise logistic regression (the right runbook against each other
   candidate of the same query).
2. Calibration: logistic regression of "this candidate is right" on its score and its margin
   over the best other candidate, over the top five of every query.

    .venv/bin/python benchmarks/calibrate.py            # print fitted constants and the ROC
"""

from __future__ import annotations

import argparse

import numpy as np
from _common import table
from retrieval_sets import indexed_service, own_queries, ranked, shared_negatives, shared_queries

TOP = 5


def candidates(svc, text: str, exclude: set[str] | None = None):
    """(features, scores, is-expected flags) of a query's top candidates, before calibration."""
    from faultmaven_runbooks.search.query import QueryText

    svc.ready()
    allowed = None
    if exclude:
        allowed = {rid for rid, info in svc.index.mirror().infos.items() if info.path not in exclude}
    ranking = svc._searcher.rank(QueryText.parse(text), allowed=allowed)
    matches = ranking.matches
    paths = [{ranking.kw.docs[m.doc].path} | {ranking.kw.docs[d].path for d in m.also} for m in matches]
    return (np.array([m.features for m in matches]), np.array([m.score for m in matches]), paths)


def fit_ranking(svc, queries) -> np.ndarray:
    """Pairwise logistic regression with non-negative weights (L-BFGS-B): the right runbook
    against each other candidate of the same query."""
    from scipy.optimize import minimize

    diffs = []
    for q in queries:
        feats, _, paths = candidates(svc, q.text)
        right = [i for i, p in enumerate(paths) if p & set(q.expected)]
        if not right:
            continue
        for j in range(min(len(paths), 20)):
            if j != right[0]:
                diffs.append(feats[right[0]] - feats[j])
    x = np.array(diffs, dtype=np.float64)

    def loss(w):
        z = x @ w
        p = 1 / (1 + np.exp(z))  # d/dz log(1 + exp(-z)) = -p
        return np.logaddexp(0, -z).sum() + 0.5 * w @ w, -(x.T @ p) + w

    fitted = minimize(loss, np.ones(x.shape[1]), jac=True, method="L-BFGS-B", bounds=[(0, None)] * x.shape[1])
    return fitted.x


def calibration_rows(svc, queries, leave_out: bool):
    """The calibration's inputs for every query's top candidates, and whether each is right."""
    from faultmaven_runbooks.search import confidence as conf

    rows, labels = [], []
    for q in queries:
        for exclude in ([None, set(q.expected)] if leave_out else [None]):
            feats, scores, paths = candidates(svc, q.text, exclude)
            if not len(scores):
                continue
            x = conf.inputs(feats, scores)
            for i in np.argsort(-scores)[:TOP]:
                rows.append(x[i])
                labels.append(bool(paths[i] & set(q.expected)))
    return np.array(rows), np.array(labels)


STYLES = ("alert name", "summary + description", "incident description")


def roc(svc, positives, negatives) -> list[list[object]]:
    """Operating points: share of positives answered with the right runbook first, and of
    questions without a runbook answered at all, by confidence bar and way of asking."""
    def top(q):
        hits = ranked(svc, q.text, limit=1)
        return (hits[0][0], bool(hits[0][1] & set(q.expected))) if hits else (0.0, False)

    def style(q):
        return next(s for s in STYLES if q.set.endswith(s) or q.set.endswith(s.replace("alert name", "by name")))

    pos = {s: [top(q) for q in positives if style(q) == s] for s in STYLES}
    neg = {s: [top(q)[0] for q in negatives if style(q) == s] for s in STYLES}
    rows = []
    for bar in (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
        row: list[object] = [bar]
        for s in STYLES:
            row.append(sum(c >= bar and right for c, right in pos[s]) / len(pos[s]))
            row.append(f"{sum(c >= bar for c in neg[s])}/{len(neg[s])}")
        rows.append(row)
    return rows


def write_constants(fitted: dict[str, str]) -> None:
    """Replace the fitted constants in faultmaven_runbooks/search/confidence.py."""
    import re

    from _common import ROOT

    path = ROOT / "faultmaven_runbooks" / "search" / "confidence.py"
    text = path.read_text()
    for name, value in fitted.items():
        text, n = re.subn(rf"^{re.escape(name)} = .*$", f"{name} = {value}", text, count=1, flags=re.M)
        assert n == 1, f"{name} not found in {path}"
    path.write_text(text)
    print(f"written to {path.relative_to(ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=None)
    parser.add_argument("--fit", action="store_true", help="fit and print new constants (else only the ROC)")
    parser.add_argument("--write", action="store_true", help="with --fit: write them into confidence.py")
    args = parser.parse_args()
    svc, _, _ = indexed_service("prometheus", args.model)
    own = [q for q in own_queries() if q.corpus == "prometheus"]
    positives = shared_queries() + [q for q in own if q.expected]
    negatives = shared_negatives() + [q for q in own if not q.expected]
    from faultmaven_runbooks.search import confidence as conf

    if args.fit:
        weights = fit_ranking(svc, positives)
        conf.RANK_WEIGHTS = np.asarray(weights, dtype=np.float32)
        from sklearn.linear_model import LogisticRegression

        x, y = calibration_rows(svc, positives, leave_out=True)
        model = LogisticRegression(C=1.0, max_iter=5000).fit(x, y)
        coef = model.coef_[0]
        # Sorting by confidence must stay sorting by score: slope > 0 and slope + 2 * margin > 0.
        assert coef[0] > 0 and coef[0] + 2 * coef[1] > 0 and coef[0] + coef[1] > 0, coef[:2]
        conf.SCORE_SLOPE, conf.MARGIN_SLOPE = float(coef[0]), float(coef[1])
        conf.TOP_WEIGHTS = coef[2:].astype(np.float32)
        conf.CALIBRATION_BIAS = float(model.intercept_[0])
        fitted = {
            "RANK_WEIGHTS": f"np.array({[round(float(w), 3) for w in weights]}, dtype=np.float32)",
            "SCORE_SLOPE, MARGIN_SLOPE": f"{coef[0]:.3f}, {coef[1]:.3f}",
            "TOP_WEIGHTS": f"np.array({[round(float(w), 3) for w in coef[2:]]}, dtype=np.float32)",
            "CALIBRATION_BIAS": f"{model.intercept_[0]:.3f}",
        }
        for name, value in fitted.items():
            print(f"{name} = {value}")
        if args.write:
            write_constants(fitted)
    headers = ["confidence bar"]
    for s in ("by name", "by summary + description", "by incident text"):
        headers += [f"{s}: right and answered", f"{s}: no runbook, answered"]
    print(table(headers, roc(svc, positives, negatives)))


if __name__ == "__main__":
    main()
