"""Helpers shared by the learning tests (importable, unlike conftest)."""

from __future__ import annotations

import json
from pathlib import Path

from faultmaven_runbooks.learning import LearningService
from faultmaven_runbooks.library.authoring import AuthoringService
from faultmaven_runbooks.ops.analytics import Analytics
from faultmaven_runbooks.ops.backups import Backups

ROOT = Path(__file__).resolve().parents[2]
CASES = Path(__file__).parent / "cases"
SHIPPED = ["static/compute/pod-oomkilled.md", "static/compute/pod-crashloopbackoff.md",
           "static/compute/node-disk-pressure.md", "static/compute/image-pull-backoff.md"]


def load_case(name: str) -> dict:
    return json.loads((CASES / name).read_text())


def attach(service):
    """Attach the feature services unless the core service already did."""
    for name, cls in (("learning", LearningService), ("authoring", AuthoringService),
                      ("analytics", Analytics), ("backups", Backups)):
        if getattr(service, name, None) is None:
            setattr(service, name, cls(service.settings, service))
    return service
