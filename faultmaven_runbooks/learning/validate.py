"""Validation of `learn` input: the specification's incident shape, bounded in size."""

from __future__ import annotations

from ..errors import InvalidInput

MAX_ITEMS = 50
MAX_TEXT = 1000
LIST_FIELDS = ("diagnosis", "resolution", "symptoms", "triggers", "lessons")


def _text(value: object, field: str) -> str:
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise InvalidInput(f"{field} must be text")
    text = str(value).strip()
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"{field} must be at most {MAX_TEXT} characters")
    return text


def _list(value: object, field: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or len(value) > MAX_ITEMS:
        raise InvalidInput(f"{field} must be a list of at most {MAX_ITEMS} strings")
    return [t for t in (_text(v, f"each {field} entry") for v in value) if t]


def check_incident(data: object) -> dict:
    """Normalised copy: type, lists of strings, success as a bool; unknown keys are kept."""
    if not isinstance(data, dict):
        raise InvalidInput("incident_data must be an object with type, diagnosis[], resolution[], success, duration")
    if not data.get("type"):
        raise InvalidInput("incident_data.type is required (e.g. 'pod_crash')")
    if not isinstance(data.get("success"), bool):
        raise InvalidInput("incident_data.success is required and must be true or false")
    out = dict(data)
    out["type"] = _text(data["type"], "incident_data.type")
    for field in LIST_FIELDS:
        out[field] = _list(data.get(field), f"incident_data.{field}")
    if not out["diagnosis"] and not out["symptoms"]:
        raise InvalidInput("incident_data needs diagnosis[] or symptoms[]: patterns are learned from them")
    steps = data.get("steps_taken") or []
    if not isinstance(steps, list) or len(steps) > MAX_ITEMS:
        raise InvalidInput(f"incident_data.steps_taken must be a list of at most {MAX_ITEMS} steps")
    for step in steps:
        if not isinstance(step, (str, dict)):
            raise InvalidInput("each steps_taken entry must be text or {description, command}")
    for key in ("id", "incident_id", "service", "namespace", "runbook_used", "runbook_id", "severity", "impact"):
        if data.get(key) is not None:
            out[key] = _text(data[key], f"incident_data.{key}")
    out["id"] = out.get("id") or out.get("incident_id")
    out["runbook_used"] = out.get("runbook_used") or out.get("runbook_id")
    effects = data.get("side_effects")
    if effects is not None and not isinstance(effects, (list, dict)):
        raise InvalidInput("incident_data.side_effects must be a list, or an object resolution -> list")
    return out


def check_context(context: object) -> dict:
    if context is None:
        return {}
    if not isinstance(context, dict):
        raise InvalidInput("context must be an object such as {namespace, pod_type, service}")
    return {str(k): v for k, v in context.items() if isinstance(v, (str, int, float)) and not isinstance(v, bool)}
