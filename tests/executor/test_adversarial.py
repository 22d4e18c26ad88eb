"""Table-driven hostile steps and context values: none may reach the API server; each gets a reason."""

from __future__ import annotations

import io
import json

import pytest

from faultmaven_runbooks.settings import Settings
from faultmaven_runbooks.storage import open_store

from .adversarial_cases import CASES
from .adversarial_run import run_cases


@pytest.fixture
def rows(kube, tmp_path):
    return run_cases(kube.url, tmp_path / "data", kube.requests)


def test_at_least_sixty_hostile_cases_and_ids_are_unique():
    ids = [c[0] for c in CASES]
    assert len(ids) >= 60
    assert len(set(ids)) == len(ids)


def test_no_hostile_case_reaches_the_api_and_each_has_a_clear_reason(rows, kube, capsys):
    assert len(rows) == len(CASES)
    bad = []
    for row in rows:
        ok = (row["reached_api"] == 0 and row["classification"] in ("manual", "refused")
              and row["result"] in ("manual", "refused") and row["keyword"].lower() in row["reason"].lower()
              and row["status"] != "awaiting_approval")
        if not ok:
            bad.append(row)
    assert bad == [], json.dumps(bad, indent=1)
    assert kube.requests == []  # not one request of any kind reached the server
    with capsys.disabled():
        refused = sum(r["classification"] == "refused" for r in rows)
        print(f"\nadversarial: {len(rows)} hostile cases, {sum(r['reached_api'] for r in rows)} reached the API "
              f"({refused} refused, {len(rows) - refused} manual)")


def test_every_hostile_attempt_is_in_the_audit_log(rows, tmp_path):
    store, log = open_store(Settings(_env_file=None, data_dir=tmp_path / "data")), io.StringIO()
    store.audit.export_jsonl(log)
    store.close()
    entries = [json.loads(line) for line in log.getvalue().splitlines()]
    steps = {e["execution_id"]: e for e in entries if e["event"] == "execute.step"}
    for row in rows:
        entry = steps[row["execution_id"]]
        assert entry["requester"] == "attacker"
        assert entry["result"] in ("manual", "refused") and entry["reason"]
        assert entry["plan_hash"].startswith("sha256:")
