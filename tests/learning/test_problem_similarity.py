"""Dedup compares problems on the real model: the shipped library, cases of our own.

A search score answers "is this runbook worth reading for this text"; a duplicate needs the same
symptoms and the same root cause. These cases share words with a runbook (OOMKilled, x509) but
not its problem, or restate a runbook's problem in other words.
"""

from __future__ import annotations

import pytest

from faultmaven_runbooks.learning.cases import CaseFacts, parse_case
from faultmaven_runbooks.settings import LearningSettings
from tests.learning.support import load_case

pytestmark = pytest.mark.real_model
REUSE, REVIEW = LearningSettings().case_reuse_threshold, LearningSettings().case_review_threshold


def case(title: str, problem: str, symptoms: list[str], root_cause: str, services: list[str]) -> CaseFacts:
    return CaseFacts(case_id="case_test", title=title, generation=3, problem=problem, symptoms=symptoms,
                     root_cause=root_cause, affected_services=services)


def scores(service, facts: CaseFacts) -> dict[str, float]:
    return {s.id: s.similarity for s in service.cases._similar(facts)}


def test_a_redis_session_case_is_not_the_generic_oomkilled_runbook(real_service):
    found = scores(real_service, parse_case(load_case("gen3_redis_oom.json")))
    assert "pod-oomkilled" in found  # search does propose it...
    assert found["pod-oomkilled"] < REVIEW  # ...but it is not the same problem
    assert max(found, key=found.get) == "redis-oom-session-objects"
    assert found["redis-oom-session-objects"] > found["pod-oomkilled"] + 0.1


def test_mentioning_x509_does_not_make_a_case_the_expired_certificate_runbook(real_service):
    rotated_ca = case("Payments API calls fail with x509 unknown authority",
                      "payments-api cannot call the ledger service: x509: certificate signed by unknown authority",
                      ["TLS handshake errors from payments-api", "x509: certificate signed by unknown authority"],
                      "The internal CA was rotated and the new intermediate was never added to the clients' trust "
                      "bundle ConfigMap", ["payments-api"])
    found = scores(real_service, rotated_ca)
    assert found.get("tls-certificate-expired", 0) < REVIEW
    assert all(score < REUSE for score in found.values())


def test_the_same_problem_in_other_words_is_found_as_existing(real_service):
    restated = case("JVM service killed for exceeding its container memory",
                    "checkout pods restart again and again; the container is OOMKilled with exit code 137",
                    ["Last State: Terminated, Reason: OOMKilled, Exit Code: 137", "pods end up in CrashLoopBackOff"],
                    "The working set of the application is larger than the container memory limit, so the "
                    "kernel OOM killer terminates the container", ["checkout"])
    found = scores(real_service, restated)
    assert max(found, key=found.get) == "pod-oomkilled"
    assert found["pod-oomkilled"] >= REVIEW
