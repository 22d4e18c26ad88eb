"""Search text from an alert or a case, for `suggest_similar`."""

from __future__ import annotations

# Label values that name infrastructure rather than the problem only add noise to a query.
_NOISY_LABELS = {"instance", "job", "pod", "namespace", "container", "prometheus", "endpoint", "service", "uid"}


def alert_query(alert: dict) -> str:
    """Alertmanager or Prometheus alert: its name, then summary and description."""
    labels = alert.get("labels") or {}
    annotations = alert.get("annotations") or {}
    if not isinstance(labels, dict) or not isinstance(annotations, dict):
        return ""
    name = alert.get("name") or alert.get("alertname") or labels.get("alertname") or ""
    texts = [
        annotations.get(k, "") for k in ("summary", "message", "description") if isinstance(annotations.get(k), str)
    ]
    extra = [f"{v}" for k, v in labels.items() if k not in _NOISY_LABELS | {"alertname", "severity"} and isinstance(v, str)]
    return " ".join(str(x) for x in [name, *texts, *extra[:3]] if x).strip()


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
