"""Learning that counts once: incidents and cases sent again update what they counted, never
add to it; an "existing" case answer credits its resolution; journal notes are not hypotheses."""

from __future__ import annotations

import copy

import pytest

from faultmaven_runbooks.learning.case_render import render_case_runbook
from faultmaven_runbooks.learning.cases import parse_case
from tests.learning.support import load_case

pytestmark = pytest.mark.both_stores  # on SQLite, and again on PostgreSQL (tests/conftest.py)

CTX = {"namespace": "production", "pod_type": "web-app"}


def oom(incident_id: str, success: bool = True, fix: str = "increase_memory_limit", **extra) -> dict:
    return {"id": incident_id, "type": "pod_crash", "symptoms": ["OOMKilled events", "exit code 137"],
            "diagnosis": ["memory_limit_exceeded"], "resolution": [fix], "success": success, "duration": "10m",
            **extra}


def test_a_resent_incident_replaces_its_outcome_instead_of_counting_twice(fm_service):
    learning = fm_service.learning
    first = learning.learn(oom("INC-1", success=False, fix="restart_pod"), CTX)
    again = learning.learn(oom("INC-1", runbook_used="pod-oomkilled"), CTX)  # corrected: it was resolved
    assert again.updated and not first.updated and again.pattern_id == first.pattern_id
    data = learning.get_patterns()
    pattern = data["incident_patterns"][first.pattern_id]
    assert data["total_incidents"] == 1 and pattern["frequency"] == 1 and pattern["success_rate"] == 1.0
    assert pattern["common_solutions"] == ["increase_memory_limit"] and pattern["failed_solutions"] == []
    assert set(data["resolution_effectiveness"]) == {"increase_memory_limit"}  # restart_pod was taken back
    assert learning.runbook_stats("pod-oomkilled") == {"uses": 1, "resolved": 1, "failed": 0, "success_rate": 1.0,
                                                       "avg_resolution_seconds": 600.0}
    learning.learn(oom("INC-1", runbook_used="pod-oomkilled"), CTX)  # and once more, unchanged
    assert learning.runbook_stats("pod-oomkilled")["uses"] == 1
    assert learning.get_patterns()["incident_patterns"][first.pattern_id]["frequency"] == 1


def test_similar_incidents_never_list_the_incident_itself(fm_service):
    learning = fm_service.learning
    learning.learn(oom("INC-1"), CTX)
    learning.learn(oom("INC-2"), CTX)
    again = learning.learn(oom("INC-2"), CTX)
    assert again.similar_incidents == ["INC-1"]
    assert learning.learn(oom("INC-3"), CTX).similar_incidents == ["INC-1", "INC-2"]


def test_a_resent_new_incident_rewrites_its_runbook_instead_of_writing_another(fm_service):
    learning, library = fm_service.learning, fm_service.library
    first = learning.learn(oom("INC-9", fix="restart_pod"), CTX)
    assert first.new_runbook_created
    files = set(library.relpaths())
    again = learning.learn(oom("INC-9"), CTX)
    assert not again.new_runbook_created and again.runbook_id == first.runbook_id
    assert set(library.relpaths()) == files
    text = library.get(first.runbook_id).content
    assert "increase_memory_limit" in text and "restart_pod" not in text


def test_an_existing_answer_credits_the_resolution_and_reports_the_real_draft_flag(fm_service):
    case = load_case("gen3_redis_oom.json")
    created = fm_service.authoring.create_from_case(case)
    same_problem = copy.deepcopy(case)
    same_problem["case_id"] = "case_999999999999"  # another case, the same problem
    existing = fm_service.authoring.create_from_case(same_problem)
    assert existing.status == "existing" and existing.runbook_id == created.runbook_id
    assert existing.draft is True and "credited" in existing.message
    assert fm_service.learning.runbook_stats(created.runbook_id)["resolved"] == 1
    times = fm_service.analytics.report()["resolution_time"]
    assert times["resolutions_with_runbook"] == 1 and times["resolutions_without_runbook"] == 1
    fm_service.authoring.update_runbook(created.runbook_id, metadata={"status": "verified"})
    verified = fm_service.authoring.create_from_case(same_problem)
    assert verified.status == "existing" and verified.draft is False
    assert fm_service.learning.runbook_stats(created.runbook_id)["resolved"] == 1  # the same case: once


def test_the_same_case_sent_again_counts_once(fm_service):
    case = load_case("gen3_redis_oom.json")
    fm_service.authoring.create_from_case(case)
    again = fm_service.authoring.create_from_case(case)
    assert again.status == "existing" and "written from this case" in again.message
    assert fm_service.learning.get_patterns()["total_incidents"] == 1
    times = fm_service.analytics.report()["resolution_time"]
    assert times["resolutions_without_runbook"] == 1 and times["resolutions_with_runbook"] == 0


def test_a_journal_note_restating_a_hypothesis_is_not_a_second_one():
    case = load_case("gen3_redis_oom.json")
    case["investigation_journal"].append(
        {"turn": 4, "entry_type": "ruled_out", "content": "Memory leak in Redis ruled out: memory is flat after restart"})
    case["investigation_journal"].append(
        {"turn": 4, "entry_type": "ruled_out", "content": "Redis memory limit of 2Gi too low for normal load: no, "
                                                         "it held for months"})
    facts = parse_case(case)
    text = render_case_runbook(facts, "redis-oom", __import__("datetime").datetime(2031, 5, 17)).text()
    assert text.count("Memory leak in Redis") == 1
    assert text.count("Redis memory limit of 2Gi") == 1  # ruled out by the note, no longer a live theory
    ruled_out = text.split("**Ruled out**:")[1].split("###")[0]
    assert "Redis memory limit of 2Gi" in ruled_out and "Node memory pressure" in ruled_out
    theories = text.split("### 3. Hypothesis Formation")[1].split("**Ruled out**")[0]
    assert theories.count("**Theory") == 1
