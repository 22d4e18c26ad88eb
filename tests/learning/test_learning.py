"""learn / get_patterns / runbook_stats on a real service with the hashing embedder."""

from __future__ import annotations

import threading

import pytest

from faultmaven_runbooks.errors import InvalidInput
from faultmaven_runbooks.service import RunbookService

pytestmark = pytest.mark.both_stores  # on SQLite, and again on PostgreSQL (tests/conftest.py)

SPEC = {"type": "pod_crash", "diagnosis": ["memory_limit_exceeded"], "resolution": ["increase_memory_limit"],
        "success": True, "duration": "5m"}
CTX = {"namespace": "production", "pod_type": "web-app"}


def oom(i: int, success: bool = True, fix: str = "increase_memory_limit", **extra) -> dict:
    return {"id": f"INC-{i}", "type": "pod_crash", "symptoms": ["OOMKilled events", "exit code 137"],
            "diagnosis": ["memory_limit_exceeded"], "resolution": [fix], "success": success,
            "duration": f"{2 + i}m", **extra}


def test_spec_example_gives_the_spec_response(fm_service):
    r = fm_service.learning.learn(SPEC, CTX)
    assert set(r.model_dump()) >= {"pattern_detected", "pattern_id", "confidence", "new_runbook_created",
                                   "runbook_id", "recommendations"}
    assert r.pattern_detected is False and r.confidence == 0.0  # first of its kind
    assert r.pattern_id == "memory-limit-exceeded-web-app"
    assert r.new_runbook_created and r.runbook_id.startswith("incident-")
    rb = fm_service.library.get(r.runbook_id)
    assert rb.path.startswith("dynamic/incidents/") and rb.type == "dynamic"
    headings = [s.heading for s in rb.sections if s.level == 2]
    assert headings == ["Incident Details", "Diagnosis Process", "Resolution Steps", "Lessons Learned", "AI Insights"]
    assert any("memory" in rec.lower() for rec in r.recommendations)
    # Indexed at once: search finds the new incident runbook.
    assert r.runbook_id in [h.id for h in fm_service.search("pod crash memory limit exceeded", type="dynamic").results]


def test_recurrence_raises_confidence_and_writes_a_pattern_runbook(fm_service):
    results = [fm_service.learning.learn(oom(i), CTX) for i in range(6)]
    assert [r.pattern_detected for r in results] == [False] + [True] * 5
    assert len({r.pattern_id for r in results}) == 1
    confs = [r.confidence for r in results[1:]]
    assert confs == sorted(confs) and confs[-1] > confs[0]
    third = results[2]
    assert third.new_runbook_created and third.runbook_id == f"pattern-{third.pattern_id}"
    assert not results[3].new_runbook_created and results[3].runbook_id == third.runbook_id
    rb = fm_service.library.get(third.runbook_id)
    assert rb.path == f"dynamic/patterns/{third.pattern_id}.md"
    assert "increase memory limit (resolved 6 of 6 incidents)" in rb.content
    assert results[-1].similar_incidents[-1] == "INC-4"


def test_contradicting_outcomes_lower_confidence(fm_service):
    learning = fm_service.learning
    for i in range(4):
        learning.learn(oom(i), CTX)
    steady = learning.learn(oom(10), CTX).confidence
    failing = [learning.learn(oom(20 + i, success=False), CTX).confidence for i in range(4)]
    assert failing[-1] < steady
    assert failing == sorted(failing, reverse=True)
    rec = learning.learn(oom(30, success=False, fix="restart_pod"), CTX).recommendations
    assert any("Try 'increase memory limit' first" in r for r in rec)


def test_grouping_is_by_meaning_not_type_string(fm_service):
    learning = fm_service.learning
    a = learning.learn(oom(1), CTX)
    # Same cause under another type name: joins the pattern.
    b = learning.learn({**oom(2), "type": "container_oom_killed"}, CTX)
    # Same type string, different cause: a new pattern.
    c = learning.learn({"id": "INC-3", "type": "pod_crash", "symptoms": ["CrashLoopBackOff", "exit code 1 at startup"],
                        "diagnosis": ["missing environment variable in configmap"], "resolution": ["fix_configmap"],
                        "success": True}, CTX)
    assert b.pattern_detected and b.pattern_id == a.pattern_id
    assert not c.pattern_detected and c.pattern_id != a.pattern_id


def test_context_nudges_matching(fm_service):
    from faultmaven_runbooks.learning.patterns import CONTEXT_WEIGHT, context_score
    pattern = {"context": {"pod_type": {"web-app": 5, "api": 1}}}
    assert context_score({"pod_type": "web-app"}, pattern) == CONTEXT_WEIGHT
    assert context_score({"pod_type": "batch"}, pattern) == -CONTEXT_WEIGHT
    assert context_score({"pod_type": "api"}, pattern) == 0


def test_get_patterns_has_the_spec_structure(fm_service):
    learning = fm_service.learning
    for i in range(3):
        learning.learn(oom(i, side_effects=["increased_cost"]), CTX)
    learning.learn(oom(3, success=False, fix="restart_pod"), CTX)
    data = learning.get_patterns()
    (pid, p), = data["incident_patterns"].items()
    assert p["frequency"] == 4 and p["success_rate"] == 0.75 and p["failed_attempts"] == 1
    assert p["common_solutions"] == ["increase_memory_limit"] and p["failed_solutions"] == ["restart_pod"]
    assert "OOMKilled events" in p["triggers"] and p["avg_resolution_time"] == "3m"
    eff = data["resolution_effectiveness"]
    assert eff["increase_memory_limit"] == {"success_rate": 1.0, "avg_time": "3m", "uses": 3, "failures": 0,
                                            "side_effects": ["increased_cost"]}
    assert eff["restart_pod"]["success_rate"] == 0.0


def test_runbook_used_is_credited_not_duplicated(fm_service):
    before = set(fm_service.library.relpaths())
    r = fm_service.learning.learn(oom(1, runbook_used="pod-oomkilled"), CTX)
    fm_service.learning.learn(oom(2, success=False, runbook_used="pod-oomkilled"), CTX)
    assert r.credited_runbook == "pod-oomkilled" and r.runbook_id == "pod-oomkilled"
    assert not r.new_runbook_created and set(fm_service.library.relpaths()) == before
    assert fm_service.learning.runbook_stats("pod-oomkilled") == {
        "uses": 2, "resolved": 1, "failed": 1, "success_rate": 0.5, "avg_resolution_seconds": 180.0}
    assert fm_service.learning.runbook_stats("pod-crashloopbackoff") is None
    unknown = fm_service.learning.learn(oom(3, runbook_used="no-such-runbook"), CTX)
    assert unknown.credited_runbook is None and "not in the library" in unknown.recommendations[0]


def test_statistics_are_durable(fm_service):
    fm_service.learning.learn(oom(1), CTX)
    fresh = RunbookService(fm_service.settings, clock=fm_service.clock)  # a restart: its own engine
    assert fresh.learning.get_patterns()["total_incidents"] == 1
    assert fresh.learning.learn(oom(2), CTX).pattern_detected
    fresh.close()


def test_concurrent_learns_lose_no_update(fm_service):
    """Eight services (each its own engine and pool, as replicas have) learning at once."""
    errors = []

    def worker(t: int) -> None:
        svc = RunbookService(fm_service.settings, clock=fm_service.clock)
        try:
            for i in range(5):
                svc.learning.learn(oom(100 * t + i), CTX, write_runbooks=False)
        except Exception as exc:  # pragma: no cover
            errors.append(exc)
        finally:
            svc.close()

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    data = fm_service.learning.get_patterns()
    assert data["total_incidents"] == 40
    assert sum(p["frequency"] for p in data["incident_patterns"].values()) == 40
    assert data["resolution_effectiveness"]["increase_memory_limit"]["uses"] == 40


@pytest.mark.parametrize("bad,message", [
    ("nope", "object"),
    ({"diagnosis": ["x"], "success": True}, "type is required"),
    ({"type": "x", "diagnosis": ["y"]}, "success"),
    ({"type": "x", "success": True}, "diagnosis"),
    ({"type": "x", "diagnosis": ["y"], "success": True, "duration": "soon"}, "duration"),
    ({"type": "x", "diagnosis": ["y"] * 60, "success": True}, "at most 50"),
])
def test_bad_incidents_get_clear_errors(fm_service, bad, message):
    with pytest.raises(InvalidInput, match=message):
        fm_service.learning.learn(bad, CTX)


def test_a_person_owned_pattern_runbook_is_not_overwritten(fm_service):
    results = [fm_service.learning.learn(oom(i), CTX) for i in range(3)]
    rid = results[-1].runbook_id
    fm_service.authoring.update_runbook(rid, metadata={"status": "verified"})
    text = fm_service.library.get(rid).content
    fm_service.learning.learn(oom(9), CTX)
    assert fm_service.library.get(rid).content == text


def test_durations_parse():
    from faultmaven_runbooks.learning.stats import format_duration, parse_duration
    assert [parse_duration(x) for x in ("5m", "1h30m", "90s", "PT5M", "00:05:00", 42, "2 min")] == \
        [300, 5400, 90, 300, 300, 42, 120]
    assert format_duration(300) == "5m" and format_duration(5400) == "1h30m"
