"""Go's printing of decoded JSON, as kubectl's output shows it: json.Marshal (sorted keys, HTML
characters escaped) and fmt.Print (`map[k:v]`, `[a b]`, shortest floats)."""

from __future__ import annotations

import json
import re


def go_json(value, indent: bool = False) -> str:
    """Go's json.Marshal: sorted keys, HTML characters escaped as \\u003c and friends."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, indent=4 if indent else None,
                      separators=(",", ": ") if indent else (",", ":"))
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def go_text(value) -> str:
    """Go's fmt.Print of a decoded JSON value (what kubectl prints for a scalar)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_text(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_text(v) for v in value) + "]"
    if value is None:
        return "<nil>"
    return str(value)


def _go_float(value: float) -> str:
    if value == int(value) and abs(value) < 1e21:
        text = repr(value)
        return text[:-2] if text.endswith(".0") and "e" not in text else text
    text = repr(value)
    m = re.fullmatch(r"(-?[\d.]+)e([+-])(\d+)", text)
    return f"{m.group(1)}e{m.group(2)}{int(m.group(3)):02d}" if m else text
