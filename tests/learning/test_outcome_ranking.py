"""Outcomes feed search: all else equal, a runbook that keeps resolving ranks above one that fails."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.both_stores  # on SQLite, and again on PostgreSQL (tests/conftest.py)

BODY = "# {title}\n\n## Steps\n1. Check the zookeeper session expiry in the broker logs.\n2. Restart the broker.\n"


def test_outcome_factor(fm_service):
    learning = fm_service.learning
    assert learning.outcome_factor("pod-oomkilled") == 1.0
    for _ in range(5):
        learning.record_runbook_outcome("pod-oomkilled", True, 60)
        learning.record_runbook_outcome("node-disk-pressure", False)
    good, bad = learning.outcome_factor("pod-oomkilled"), learning.outcome_factor("node-disk-pressure")
    assert 1.0 < good <= 1.1 and 0.9 <= bad < 1.0
    learning.record_runbook_outcome("image-pull-backoff", True)
    assert learning.outcome_factor("image-pull-backoff") < good  # less evidence, smaller push


# Needs the core search to multiply each hit's relevance by service.learning.outcome_factor(id)
# before ordering; strict, so this marker must go once the core does it.
def test_resolving_runbook_ranks_above_failing_twin(fm_service):
    # Both orders, so a tie broken by id cannot pass by luck.
    for good, bad, word in (("broker-playbook-a", "broker-playbook-b", "zookeeper"),
                            ("queue-playbook-d", "queue-playbook-c", "rabbitmq")):
        for rid in (good, bad):
            text = BODY.format(title="Playbook").replace("zookeeper", word)
            fm_service.authoring.create_runbook("Playbook", text, runbook_id=rid)
        for _ in range(5):
            fm_service.learning.record_runbook_outcome(good, True, 120)
            fm_service.learning.record_runbook_outcome(bad, False)
        ids = [h.id for h in fm_service.search(f"{word} session expiry broker").results]
        assert ids.index(good) < ids.index(bad), (word, ids)
