"""From signals to one calibrated number: the probability that a runbook addresses the query.

Two logistic steps, fitted by `benchmarks/calibrate.py` (which prints these constants):

1. `evidence`: each candidate's signals -> a ranking score (pairwise fit: the right runbook
   against the others of the same query).
2. `confidence`: the candidate's score, its margin over the best *other* candidate, and what
   the query's best candidate covers -> a probability (pointwise fit). A runbook far ahead of
   the next is more likely right than one tied with a sibling; a query whose rarest words even
   the best candidate lacks is likely about something the library does not have. The last
   term is the same for every candidate of a query, and the first two grow with the score, so
   sorting by confidence is sorting by the ranking score.

What is not learned is set by design, in ranking-score units: a named runbook outranks the
ones that only resemble it; helper pages, drafts and deprecated runbooks are pushed down;
learned outcomes nudge a runbook that keeps resolving its incidents.
"""

from __future__ import annotations

import math

import numpy as np

FEATURES = (
    "dense",  # cosine similarity of the best chunk (the query's meaning)
    "bm25",  # BM25F over name, lead and body, relative to the best candidate's
    "coverage",  # idf-weighted share of the query's words the runbook contains
    "lead_coverage",  # ... in its name and lead (what it says it is about)
    "rare_coverage",  # ... of the query's three rarest words
    "name_exact",  # 1 when the query names the runbook (alert name, file name, title)
    "name_prefix",  # a name in the query begins the runbook's (KubeAPI -> KubeAPIDown), as a share of its words
    "name_overlap",  # words a name in the query shares with the runbook's, in any order (Dice)
    "name_coverage",  # share of the runbook's name the query mentions
    "dense_gap",  # dense minus the best candidate's dense (0 for the closest in meaning)
)

# Fitted on the prometheus-operator corpus (the shared alerts and our incident descriptions, and
# each asked again with its own runbook removed, as a realistic negative); see
# benchmarks/calibrate.py and the README. Ranking weights are kept non-negative: every signal
# can only speak for a runbook, so no corpus can learn one into speaking against it.
RANK_WEIGHTS = np.array([4.178, 2.865, 1.339, 0.595, 0.0, 1.272, 1.441, 0.232, 4.865, 4.178], dtype=np.float32)
SCORE_SLOPE, MARGIN_SLOPE = 0.604, 0.369
# on the FEATURES of the query's best candidate
TOP_WEIGHTS = np.array([-1.613, -0.788, -0.468, 0.602, 1.086, -1.133, 0.776, -2.743, -0.628, -0.194], dtype=np.float32)
CALIBRATION_BIAS = -5.611

# Set by design (ranking-score units), not fitted: the shared set has too few of these to learn from.
EXACT_NAME = 8.0  # a runbook the query names outranks any that only resemble it
HELPER_PENALTY = 1.5  # READMEs, _index.md, pages that are mostly links
STATUS_PENALTY = {"verified": 0.0, "draft": 0.5, "deprecated": 2.0}
OUTCOME_SLOPE = 2.0  # per log of the learned outcome factor (0.9..1.1)

# Operating points on the confidence, chosen from the ROC in the README.
CONFIDENT = 0.25  # the best hit must reach this for the query to count as answered
SHOWN = 0.005  # hits below this share next to nothing with the query and are not listed


def adjustment(helper: bool, status: str, outcome: float = 1.0) -> float:
    """Added to a candidate's score for what it is rather than what it says."""
    return -(HELPER_PENALTY if helper else 0.0) - STATUS_PENALTY.get(status, 0.0) \
        + OUTCOME_SLOPE * math.log(max(outcome, 1e-6))


def evidence(features: np.ndarray, adjust: np.ndarray) -> np.ndarray:
    """Rows of FEATURES -> ranking scores."""
    return features @ RANK_WEIGHTS + EXACT_NAME * features[:, FEATURES.index("name_exact")] + adjust


def margins(scores: np.ndarray) -> np.ndarray:
    """Each score minus the best other score (alone: minus a candidate sharing nothing, 0)."""
    if len(scores) < 2:
        return scores.copy()
    order = np.argsort(-scores)
    best, second = scores[order[0]], scores[order[1]]
    other = np.full(len(scores), best)
    other[order[0]] = second
    return scores - other


def inputs(features: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """The calibration's inputs per candidate: score, margin, then the best candidate's FEATURES."""
    top = features[int(np.argmax(scores))]
    return np.hstack([scores[:, None], margins(scores)[:, None], np.tile(top, (len(scores), 1))])


def confidence(features: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Probabilities, one per candidate row."""
    if len(scores) == 0:
        return scores
    weights = np.concatenate([[SCORE_SLOPE, MARGIN_SLOPE], TOP_WEIGHTS])
    z = inputs(features, scores) @ weights + CALIBRATION_BIAS
    return 1.0 / (1.0 + np.exp(-z))
