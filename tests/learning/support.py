"""Helpers shared by the learning tests (importable, unlike conftest)."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CASES = Path(__file__).parent / "cases"
SHIPPED = ["static/compute/pod-oomkilled.md", "static/compute/pod-crashloopbackoff.md",
           "static/compute/node-disk-pressure.md", "static/compute/image-pull-backoff.md"]


def load_case(name: str) -> dict:
    return json.loads((CASES / name).read_text())
