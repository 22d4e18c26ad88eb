"""Synthetic libraries for the speed benchmarks: copies of the shipped runbooks, each copy
about another service, so the library grows to the size a benchmark needs."""

from __future__ import annotations

import re
from pathlib import Path

from _common import ROOT

SERVICES = ["checkout", "payments", "search", "ledger", "inventory", "billing", "gateway", "auth", "catalog",
            "orders", "shipping", "notifications", "reports", "profiles", "media", "pricing", "cart", "reviews",
            "loyalty", "fraud", "tax", "returns", "warehouse", "analytics", "recommendations", "sessions"]


def shipped() -> list[Path]:
    return sorted(p for p in (ROOT / "runbooks" / "static").rglob("*.md"))


def build(target: Path, copies: int) -> int:
    """Write `copies` variants of every shipped runbook under `target`; returns the file count."""
    if target.exists() and len(list(target.rglob("*.md"))) == copies * len(shipped()):
        return copies * len(shipped())
    count = 0
    for k in range(copies):
        service = f"{SERVICES[k % len(SERVICES)]}-{k}"
        for path in shipped():
            text = path.read_text()
            text = re.sub(r"^id: (.+)$", rf"id: \1-{service}", text, count=1, flags=re.M)
            text = re.sub(r"^title: (.+)$", rf"title: \1 ({service})", text, count=1, flags=re.M)
            text = text.replace("{namespace}", service).replace("{deployment}", f"{service}-api")
            out = target / service / path.relative_to(ROOT / "runbooks" / "static")
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text)
            count += 1
    return count
