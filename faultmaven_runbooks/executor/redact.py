"""Trim output and redact Secret-like values before anything reaches the model or the records."""

from __future__ import annotations

import difflib
import json
import re
from typing import Any

import yaml

REDACTED = "[REDACTED]"
_SECRET_NAME = re.compile(r"(?i)(pass(word|wd)?|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|"
                          r"credential|auth|session|cookie|dsn|connection[_-]?string)")
_TEXT_PATTERNS = [
    # key=value / key: value where the key looks secret
    (re.compile(r"(?i)\b([A-Za-z0-9_.-]*(?:pass(?:word|wd)?|secret|token|api[_-]?key|access[_-]?key)"
                r"[A-Za-z0-9_.-]*)([\"']?\s*[:=]\s*[\"']?)([^\s\"',}]+)"), rf"\1\2{REDACTED}"),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), rf"\1 {REDACTED}"),
    (re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), REDACTED),  # JWTs
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S), REDACTED),
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^:/\s@]+:)([^@\s]+)(@)"), rf"\1{REDACTED}\3"),  # user:pw@host
    (re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b"), REDACTED),  # AWS access key ids
]
_DROP_KEYS = {"managedFields"}
_ANNOTATION_DROP = {"kubectl.kubernetes.io/last-applied-configuration"}


def redact_text(text: str) -> str:
    for pattern, repl in _TEXT_PATTERNS:
        text = pattern.sub(repl, text)
    return text


def trim(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit]
    return cut + f"\n... [trimmed: {len(text) - limit} more characters; narrow the step (--tail, a name)]"


def clean_object(obj: dict[str, Any], kind: str | None = None) -> dict[str, Any]:
    """A copy of an API object that is safe to show: no Secret or ConfigMap values, no secret env."""
    kind = kind or obj.get("kind", "")
    out: dict[str, Any] = {}
    for key, value in obj.items():
        if key in _DROP_KEYS:
            continue
        if key in ("data", "binaryData", "stringData") and kind in ("Secret", "ConfigMap", "secrets", "configmaps"):
            # ConfigMaps often carry connection strings; Secrets always carry credentials.
            out[key] = {k: REDACTED for k in (value or {})}
            continue
        if key == "annotations" and isinstance(value, dict):
            out[key] = {k: (REDACTED if k in _ANNOTATION_DROP else v) for k, v in value.items()}
            continue
        if key == "env" and isinstance(value, list):
            out[key] = [_clean_env(e) for e in value]
            continue
        if key == "items" and isinstance(value, list):
            item_kind = kind[:-4] if kind.endswith("List") else kind
            out[key] = [_clean(v, item_kind) for v in value]
            continue
        out[key] = _clean(value, None if isinstance(value, dict) and "kind" in value else kind)
    return out


def _clean(value: object, kind: str | None) -> object:
    """Any value inside an object: objects are cleaned, lists item by item, the rest kept."""
    if isinstance(value, list):
        return [_clean(v, None) for v in value]
    if isinstance(value, dict):
        return clean_object(value, kind)
    return value


def _clean_env(entry: object) -> object:
    if isinstance(entry, dict) and "value" in entry and _SECRET_NAME.search(str(entry.get("name", ""))):
        return {**entry, "value": REDACTED}
    return entry


def to_yaml(obj: object) -> str:
    return yaml.safe_dump(obj, sort_keys=False, default_flow_style=False, allow_unicode=False)


def to_json(obj: object) -> str:
    return json.dumps(obj, indent=2, sort_keys=False)


def _for_diff(obj: dict) -> dict:
    meta = obj.get("metadata") or {}
    keep = {k: meta[k] for k in ("labels", "annotations") if meta.get(k)}
    out = {"metadata": keep} if keep else {}
    for key in ("spec", "data"):
        if key in obj:
            out[key] = obj[key]
    return clean_object(out, obj.get("kind"))


def object_diff(before: dict, after: dict, label: str) -> str:
    """Unified diff of what a change would do, on the parts a person reviews (spec, labels)."""
    a = to_yaml(_for_diff(before)).splitlines()
    b = to_yaml(_for_diff(after)).splitlines()
    diff = "\n".join(difflib.unified_diff(a, b, f"{label} (live)", f"{label} (after change)", lineterm="", n=2))
    return diff or "(no change: the object already looks like this)"
