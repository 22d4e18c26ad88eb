"""Search text from an alert or a case, for `suggest_similar`."""

from __future__ import annotations

from .text import looks_like_identifier

_NAME_LABELS = {"alertname", "severity"}


def _labels(alert: dict) -> dict:
    labels = alert.get("labels") or {}
    return labels if isinstance(labels, dict) else {}


def alert_query(alert: dict) -> str:
    """Alertmanager or Prometheus alert: its name, summary and description, and label values
    that name a condition (reason="CrashLoopBackOff", condition="MemoryPressure")."""
    labels = _labels(alert)
    annotations = alert.get("annotations") or {}
    if not isinstance(annotations, dict):
        return ""
    name = alert.get("name") or alert.get("alertname") or labels.get("alertname") or ""
    texts = [
        annotations.get(k, "") for k in ("summary", "message", "description") if isinstance(annotations.get(k), str)
    ]
    conditions = [v for k, v in labels.items()
                  if k not in _NAME_LABELS and isinstance(v, str) and looks_like_identifier(v) and "-" not in v]
    return " ".join(str(x) for x in [name, *texts, *conditions[:3]] if x).strip()


def alert_context(alert: dict) -> list[str]:
    """The alert's label values: where it fired (namespace, pod, instance, job...), context for
    the search, never its topic. Condition names kept by `alert_query` are not among them."""
    return [v for k, v in _labels(alert).items()
            if k not in _NAME_LABELS and isinstance(v, str) and v and not (looks_like_identifier(v) and "-" not in v)]


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return " ".join(_text(v) for v in value)
    if isinstance(value, dict):
        return " ".join(_text(v) for k, v in value.items() if k in ("description", "statement", "summary", "name"))
    return ""


def case_query(case: dict | str) -> str:
    """A FaultMaven case (any generation) or a case summary: title, symptoms, problem statement."""
    if isinstance(case, str):
        return case
    if not isinstance(case, dict):
        return ""
    verification = case.get("problem_verification") or {}
    diagnostic = case.get("diagnostic_state") or {}
    parts = [
        case.get("title"), case.get("summary"), case.get("description"),
        verification.get("symptom_statement") if isinstance(verification, dict) else None,
        _text(verification.get("symptom_indicators")) if isinstance(verification, dict) else None,
        diagnostic.get("problem_statement") if isinstance(diagnostic, dict) else None,
        _text(diagnostic.get("symptoms")) if isinstance(diagnostic, dict) else None,
        _text(case.get("symptoms")),
    ]
    seen: list[str] = []
    for part in parts:
        if isinstance(part, str) and part.strip() and part.strip() not in seen:
            seen.append(part.strip())
    return " ".join(seen)
