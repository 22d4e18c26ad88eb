"""Search over the shipped library with the real bundled all-MiniLM-L6-v2 model."""

import pytest

pytestmark = pytest.mark.real_model


@pytest.mark.parametrize(
    "query, expected",
    [
        ("KubePodCrashLooping", "pod-crashloopbackoff"),
        ("OOMKilled", "pod-oomkilled"),
        ("ENOSPC", "disk-full-enospc"),
        ("x509: certificate has expired", "tls-certificate-expired"),
        ("mvcc: database space exceeded", "etcd-database-quota-exceeded"),
        ("CreateContainerConfigError", "create-container-config-error"),
        ("ImagePullBackOff", "image-pull-backoff"),
        ("redis pods keep getting OOM killed after we made session objects bigger", "redis-oom-session-objects"),
        ("node went NotReady, kubelet stopped posting node status", "node-not-ready"),
        ("pods can't resolve service names, lookup fails with no such host", "coredns-dns-resolution-failure"),
    ],
)
def test_identifiers_and_descriptions_find_their_runbook_first(real_service, query, expected):
    result = real_service.search(query, limit=3)
    assert result.results, result.message
    assert result.results[0].id == expected
    if " " not in query:  # a name or an error code alone: the runbook it names is a confident answer
        assert result.confident, (result.results[0].relevance_score, result.message)


@pytest.mark.parametrize(
    "query",
    [
        "what is a good sourdough hydration for pizza dough",
        "Elasticsearch cluster health is red, primary shards unassigned",  # the library has no Elasticsearch runbook
    ],
)
def test_a_question_the_library_does_not_cover_is_not_confident(real_service, query):
    result = real_service.search(query)
    assert not result.confident
    assert all(h.relevance_score < 0.1 for h in result.results)
    assert "No runbook" in result.message


def test_real_embeddings_are_normalised_and_semantic(real_service):
    import numpy as np

    a, b, c = real_service.embedder.embed(["pod ran out of memory", "container OOMKilled", "TLS certificate expired"])
    assert abs(np.linalg.norm(a) - 1) < 1e-4
    assert float(a @ b) > float(a @ c)
