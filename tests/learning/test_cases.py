"""FaultMaven case JSON (generations 1-3) -> the five-part runbook markdown."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from faultmaven_runbooks.errors import InvalidInput
from faultmaven_runbooks.learning.case_render import render_case_runbook
from faultmaven_runbooks.learning.cases import generation, parse_case
from faultmaven_runbooks.library.markdown import parse_runbook
from tests.learning.support import load_case

pytestmark = pytest.mark.both_stores  # on SQLite, and again on PostgreSQL (tests/conftest.py)

FIVE_PARTS = ["Problem Summary", "Diagnosis Steps", "Root Cause", "Solution", "Prevention"]
NOW = dt.datetime(2031, 5, 17, 9, 30, tzinfo=dt.UTC)


def render(name: str):
    facts = parse_case(load_case(name))
    text = render_case_runbook(facts, "rb-test", NOW).text()
    return facts, text, parse_runbook(text, "dynamic/resolutions/auto-generated/rb-test.md")


@pytest.mark.parametrize("name,gen", [("gen1_disk_full.json", 1), ("gen2_pg_connections.json", 2),
                                      ("gen3_redis_oom.json", 3)])
def test_every_generation_gives_the_five_parts(name, gen):
    assert generation(load_case(name)) == gen
    facts, text, parsed = render(name)
    assert parsed.warnings == []
    rb = parsed.runbook
    top = [s.heading for s in rb.sections if s.level == 2]
    assert top == FIVE_PARTS
    subs = {" > ".join(s.path) for s in rb.sections}
    for sub in ("Diagnosis Steps > 1. Blast Radius Assessment", "Diagnosis Steps > 2. Timeline Analysis",
                "Diagnosis Steps > 3. Hypothesis Formation", "Diagnosis Steps > 4. Validation",
                "Solution > Immediate Fix", "Solution > Long-term Fix", "Solution > Verification",
                "Solution > Rollback", "Prevention > Monitoring", "Prevention > Automation", "Prevention > Process"):
        assert sub in subs, sub
    assert rb.status == "draft" and rb.type == "dynamic"
    assert facts.problem in text


def test_gen3_marks_validated_lists_refuted_and_keeps_only_applied_fixes():
    facts, text, parsed = render("gen3_redis_oom.json")
    assert "Session objects grew too large after the preferences deploy (VALIDATED ✓)" in text
    ruled_out = text.split("**Ruled out**:")[1].split("###")[0]
    assert "Memory leak in Redis itself" in ruled_out and "key count" not in ruled_out
    assert "Node memory pressure" in ruled_out  # from the investigation journal
    commands = [s.command for s in parsed.runbook.steps]
    assert "kubectl rollout restart statefulset/redis -n production" in commands
    # Rejected in proposed_actions: never presented, not even as an option.
    assert "FLUSHDB" not in text and "Flush all sessions" not in text
    immediate = text.split("### Immediate Fix")[1].split("### Long-term Fix")[0]
    assert "(applied)" in immediate and "Roll back the user-preferences deploy" not in immediate
    assert "rollout undo" not in text  # an unconfirmed option is named, its commands are not offered
    assert "Other Options Considered" in text
    assert facts.service == "redis" and parsed.runbook.severity == "critical"
    assert "oom" in parsed.runbook.symptom_class
    assert facts.resolution_seconds == 25 * 60


def test_gen2_reads_status_and_applied_at():
    facts, text, parsed = render("gen2_pg_connections.json")
    assert "(VALIDATED ✓)" in text and "~~Postgres primary failover~~" in text
    assert [s.command for s in parsed.runbook.steps] == [
        "kubectl set env deployment/checkout-api -n shop DB_POOL_SIZE=10"]
    assert facts.fixes[0].applied is True and parsed.runbook.severity == "high"


def test_gen1_doctor_patient_case():
    facts, text, parsed = render("gen1_disk_full.json")
    assert facts.resolution_seconds == 5400
    assert "Debug logging filled the log volume (VALIDATED ✓)" in text
    assert "Set LOG_LEVEL=debug again" in text.split("### Rollback")[1]
    assert len(parsed.runbook.steps) == 2 and facts.tags == ["logging", "disk"]


@pytest.mark.parametrize("mutate,word", [
    (lambda c: c.update(state="investigating"), "investigating"),
    (lambda c: c.update(state="closed", closure_reason="abandoned", resolved_at=None), "closed"),
    (lambda c: c.pop("state"), "missing"),
])
def test_unresolved_cases_are_refused_with_the_reason(mutate, word):
    case = copy.deepcopy(load_case("gen3_redis_oom.json"))
    mutate(case)
    with pytest.raises(InvalidInput, match="not resolved") as err:
        parse_case(case)
    assert word in str(err.value)


def test_garbage_is_refused_clearly():
    with pytest.raises(InvalidInput, match="JSON object"):
        parse_case(["not", "a", "case"])
    with pytest.raises(InvalidInput, match="symptom"):
        parse_case({"state": "resolved"})


def test_extract_with_backticks_cannot_break_out_of_its_block():
    case = copy.deepcopy(load_case("gen3_redis_oom.json"))
    case["evidence"][0]["extract"] = "```\nkubectl delete ns production\n```"
    _, text, parsed = render_case_from(case)
    assert "kubectl delete ns production" not in [s.command for s in parsed.runbook.steps]


def render_case_from(case):
    facts = parse_case(case)
    text = render_case_runbook(facts, "rb-test", NOW).text()
    return facts, text, parse_runbook(text, "dynamic/resolutions/auto-generated/rb-test.md")
