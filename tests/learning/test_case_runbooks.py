"""create_runbook_from_case end to end: dedup, credit, drafts, and search finding the result."""

from __future__ import annotations

import copy

import pytest

from faultmaven_runbooks.errors import InvalidInput
from tests.learning.support import load_case

pytestmark = pytest.mark.both_stores  # on SQLite, and again on PostgreSQL (tests/conftest.py)


def test_resolved_gen3_case_becomes_a_runbook_that_search_finds(fm_service):
    case = load_case("gen3_redis_oom.json")
    result = fm_service.authoring.create_from_case(case)
    assert result.status == "created" and result.created and result.draft
    assert result.path.startswith("dynamic/resolutions/auto-generated/")
    rb = fm_service.library.get(result.runbook_id)
    assert rb.status == "draft" and rb.metadata["source_case"] == case["case_id"]
    # The original symptom, as the next responder would type it.
    hits = fm_service.search(case["problem_verification"]["symptom_statement"], limit=3).results
    assert result.runbook_id in [h.id for h in hits]
    hits = fm_service.search("redis OOMKilled connection refused 6379 after deploy", limit=3).results
    assert hits and hits[0].id == result.runbook_id


def test_a_second_time_returns_the_existing_runbook_unless_forced(fm_service):
    case = load_case("gen3_redis_oom.json")
    first = fm_service.authoring.create_from_case(case)
    again = fm_service.authoring.create_from_case(case)
    assert again.status == "existing" and not again.created
    assert again.runbook_id == first.runbook_id
    assert again.similar[0].similarity >= 0.85 and again.draft  # its own draft, still a draft
    forced = fm_service.authoring.create_from_case(case, force=True)
    assert forced.created and forced.runbook_id != first.runbook_id
    assert len(list((fm_service.settings.library_dir / "dynamic/resolutions/auto-generated").glob("*.md"))) == 2


def test_case_resolved_with_an_existing_runbook_credits_it(fm_service):
    case = copy.deepcopy(load_case("gen3_redis_oom.json"))
    case["runbook_used"] = "pod-oomkilled"
    before = set(fm_service.library.relpaths())
    result = fm_service.authoring.create_from_case(case)
    assert result.status == "credited" and result.runbook_id == "pod-oomkilled"
    assert set(fm_service.library.relpaths()) == before  # nothing new written
    stats = fm_service.learning.runbook_stats("pod-oomkilled")
    assert stats["uses"] == 1 and stats["resolved"] == 1 and stats["avg_resolution_seconds"] == 1500
    hit = next(h for h in fm_service.search("container OOMKilled exit code 137").results if h.id == "pod-oomkilled")
    assert hit.stats and hit.stats["resolved"] == 1


def test_unresolved_case_is_refused_and_nothing_is_written(fm_service):
    case = copy.deepcopy(load_case("gen3_redis_oom.json"))
    case["state"] = "investigating"
    before = set(fm_service.library.relpaths())
    with pytest.raises(InvalidInput, match="resolve the case first"):
        fm_service.authoring.create_from_case(case)
    assert set(fm_service.library.relpaths()) == before


def test_case_as_json_text_and_older_generations(fm_service):
    import json
    r1 = fm_service.authoring.create_from_case(json.dumps(load_case("gen2_pg_connections.json")))
    r2 = fm_service.authoring.create_from_case(load_case("gen1_disk_full.json"))
    assert r1.created and r2.created
    assert fm_service.library.get(r1.runbook_id).service == "checkout-api"
    with pytest.raises(InvalidInput, match="not valid JSON"):
        fm_service.authoring.create_from_case("{not json")


def test_cases_feed_patterns_and_resolution_time_analytics(fm_service):
    fm_service.authoring.create_from_case(load_case("gen3_redis_oom.json"))
    patterns = fm_service.learning.get_patterns()
    assert patterns["total_incidents"] == 1
    report = fm_service.analytics.report()
    assert report["resolution_time"]["without_runbook_avg_seconds"] == 1500
