"""Hybrid search on the fast test embedder: identifiers, filters, confidence, shapes."""

import pytest

from faultmaven_runbooks.errors import InvalidInput, NotFound


@pytest.mark.parametrize(
    "query, expected",
    [
        ("KubePodCrashLooping", "pod-crashloop"),
        ("OOMKilled", "container-oom-killed"),
        ("ENOSPC", "volume-disk-full"),
        ("x509: certificate has expired", "tls-certificate-expired"),
        ("KubeJobFailed", "hugostyle"),
    ],
)
def test_exact_identifiers_rank_first(service, query, expected):
    result = service.search(query)
    assert result.results[0].id == expected
    assert result.confident
    scores = [h.relevance_score for h in result.results]
    assert scores == sorted(scores, reverse=True)


def test_hit_shape(service):
    hit = service.search("pod keeps restarting back-off restarting failed container").results[0]
    assert hit.id == "pod-crashloop"
    assert hit.path == "static/compute/pod-crashloop.md"
    assert hit.type == "static" and hit.severity == "high"
    assert hit.last_updated == "2026-11-01"
    assert hit.section and hit.snippet
    assert hit.status == "verified" and hit.also_in == [] and hit.see is None
    assert {"restart", "container"} <= set(hit.why.keywords)
    assert 0 < hit.why.keyword_coverage <= 1 and 0 < hit.why.semantic_similarity <= 1
    assert hit.why.exact_identifier == 0  # the query names no runbook


def test_filters(service):
    assert {h.severity for h in service.search("kubectl", severity="critical", limit=20).results} <= {"critical"}
    tagged = service.search("OOMKilled memory limit", tags=["memory"]).results
    assert tagged and all("memory" in h.tags for h in tagged)
    assert service.search("CrashLoopBackOff", type="template").results == []


def test_unrelated_query_is_not_a_confident_match_and_says_so(service):
    result = service.search("chocolate cake baking temperature")
    assert not result.confident
    assert all(h.relevance_score < 0.1 for h in result.results)
    assert "No runbook" in result.message


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"query": ""}, "query is empty"),
        ({"query": "x" * 100_000}, "keep it under"),
        ({"query": "oom", "type": "weird"}, "type must be one of"),
        ({"query": "oom", "severity": "urgent"}, "severity must be one of"),
        ({"query": "oom", "limit": 0}, "limit must be between"),
        ({"query": "oom", "tags": ["  "]}, "tags must be"),
    ],
)
def test_bad_input_says_what_to_fix(service, kwargs, fragment):
    with pytest.raises(InvalidInput, match=fragment):
        service.search(**kwargs)


def test_suggest_similar_from_alert_and_case(service):
    alert = {"labels": {"alertname": "KubePodCrashLooping", "namespace": "prod"},
             "annotations": {"summary": "Pod is crash looping."}}
    result = service.suggest_similar(alert=alert)
    top = result.suggestions[0]
    assert top.runbook.id == "pod-crashloop"
    assert top.suggested_action.payload == "Show me runbook: Pod stuck in CrashLoopBackOff"
    assert top.suggested_action.label == "View similar runbook"
    case = {"title": "Checkout pods die", "problem_verification": {"symptom_statement": "containers OOMKilled exit code 137"}}
    assert service.suggest_similar(case=case).suggestions[0].runbook.id == "container-oom-killed"
    with pytest.raises(InvalidInput, match="exactly one"):
        service.suggest_similar(problem="a", alert=alert)


def test_get_runbook_whole_by_section_and_paged(service):
    page = service.get_runbook("pod-crashloop")
    assert page.content.startswith("---") and page.pages == 1
    assert "Diagnosis Steps > 2. Validation" in page.sections
    section = service.get_runbook("pod-crashloop", section="Diagnosis Steps")
    assert "### 2. Validation" in section.content and "Immediate Fix" not in section.content
    assert all(s.section.startswith("Diagnosis Steps") for s in section.steps)
    with pytest.raises(NotFound, match="its sections are"):
        service.get_runbook("pod-crashloop", section="Nope")
    with pytest.raises(NotFound, match="use `search`"):
        service.get_runbook("no-such-runbook")
    with pytest.raises(InvalidInput, match="page must be between 1 and 1"):
        service.get_runbook("pod-crashloop", page=2)


def test_long_runbooks_are_paged(service, library_dir):
    body = "\n\n".join(f"## Part {i}\n\n" + "Replica lag detail sentence. " * 40 for i in range(40))
    (library_dir / "long.md").write_text(f"---\nid: long-one\ntitle: Long one\n---\n# Long one\n\n{body}")
    service.reindex()
    first = service.get_runbook("long-one")
    assert first.pages > 1
    joined = "".join(service.get_runbook("long-one", page=p).content for p in range(1, first.pages + 1))
    assert joined == (library_dir / "long.md").read_text()


def test_section_match_is_by_heading_not_prefix(service, library_dir):
    (library_dir / "fix.md").write_text(
        "---\nid: fixes\ntitle: Fixes\n---\n# Fixes\n\n## Fix\n\n`kubectl get pods`\n\n## Fixes later\n\n`kubectl get nodes`\n"
    )
    page = service.get_runbook("fixes", section="Fix")
    assert [s.command for s in page.steps] == ["kubectl get pods"]
    assert "Fixes later" not in page.content
    assert service.get_runbook("fixes", section="  ").section is None


def test_suggest_with_empty_problem_uses_the_alert(service):
    alert = {"labels": {"alertname": "KubePodCrashLooping"}}
    assert service.suggest_similar(problem="", alert=alert).suggestions[0].runbook.id == "pod-crashloop"


def test_empty_library_says_so(tmp_path):
    from faultmaven_runbooks.service import RunbookService
    from faultmaven_runbooks.settings import Settings

    (tmp_path / "lib").mkdir()
    svc = RunbookService(Settings(library_dir=tmp_path / "lib", data_dir=tmp_path / "d", embedding_model="hash:64"))
    result = svc.search("anything at all")
    assert result.results == [] and "no runbooks yet" in result.message
