"""Ranking behaviours that hold on any library: sibling alerts, names matched in parts, label
values as context, stubs, helper pages, near-duplicates, drafts and the status filter.

Each test writes its own small library and runs on the fast test embedder, so what decides
the order is the design (names, fields, kinds), not a model's taste."""

from __future__ import annotations

from pathlib import Path

import pytest

from faultmaven_runbooks.errors import InvalidInput
from faultmaven_runbooks.search.query import QueryText
from faultmaven_runbooks.service import RunbookService
from faultmaven_runbooks.settings import Settings


def alert_runbook(name: str, meaning: str, extra: str = "", front: str = "") -> str:
    head = f"---\n{front}---\n" if front else ""
    return (f"{head}# {name}\n\n## Meaning\n\n{meaning}\n\n## Impact\n\nAlerts may not reach people.\n\n"
            f"## Diagnosis\n\nCheck the logs of the component with `kubectl logs`.\n\n{extra}"
            "## Mitigation\n\nFix the configuration and wait for the alert to resolve.\n")


def make(tmp_path: Path, files: dict[str, str]) -> RunbookService:
    library = tmp_path / "library"
    for rel, text in files.items():
        path = library / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    svc = RunbookService(Settings(library_dir=library, data_dir=tmp_path / "data", embedding_model="hash:256"))
    svc.reindex()
    return svc


SIBLINGS = {
    "alertmanager/AlertmanagerFailedToSendAlerts.md": alert_runbook(
        "AlertmanagerFailedToSendAlerts", "An Alertmanager instance failed to send notifications to an integration."),
    "alertmanager/AlertmanagerClusterFailedToSendAlerts.md": alert_runbook(
        "AlertmanagerClusterFailedToSendAlerts",
        "All Alertmanager instances in a cluster failed to send notifications to an integration."),
    "kubernetes/KubeAPIDown.md": alert_runbook(
        "KubeAPIDown", "The Kubernetes API server has disappeared from Prometheus target discovery."),
    "kubernetes/KubeSchedulerDown.md": alert_runbook(
        "KubeSchedulerDown", "KubeScheduler has disappeared from Prometheus target discovery."),
    "kubernetes/KubeControllerManagerDown.md": alert_runbook(
        "KubeControllerManagerDown", "KubeControllerManager has disappeared from Prometheus target discovery."),
}


def ids(result) -> list[str]:
    return [h.id for h in result.results]


@pytest.mark.parametrize("name", ["AlertmanagerFailedToSendAlerts", "AlertmanagerClusterFailedToSendAlerts"])
def test_an_alert_name_beats_its_sibling_in_either_direction(tmp_path, name):
    svc = make(tmp_path, SIBLINGS)
    result = svc.search(name)
    assert result.results[0].id == name.lower()
    assert result.results[0].why.exact_identifier == 1.0 and result.confident
    assert all(h.relevance_score < result.results[0].relevance_score for h in result.results[1:])


def test_a_name_in_the_text_matches_in_parts(tmp_path):
    """'KubeAPI' in an alert text is the start of KubeAPIDown: it wins over siblings whose
    text says the same thing about another component."""
    svc = make(tmp_path, SIBLINGS)
    result = svc.search("Target disappeared from Prometheus target discovery. KubeAPI has disappeared.")
    assert result.results[0].id == "kubeapidown"
    assert 0 < result.results[0].why.exact_identifier < 1


def test_label_values_are_context_not_topic():
    q = QueryText.parse("Alertmanager payments/checkout-api-7d9f8b6c5-x2k4q failed to send 2.6% of notifications "
                        "at 10.0.3.17:9100 on ip-10-0-3-17.ec2.internal for job \"node-exporter\" on /dev/nvme0n1p1")
    assert q.topic.split() == ["Alertmanager", "failed", "to", "send", "of", "notifications", "at", "on", "for",
                               "job", "on"]
    assert {"payments/checkout-api-7d9f8b6c5-x2k4q", "2.6%", "10.0.3.17:9100", "ip-10-0-3-17.ec2.internal",
            '"node-exporter"', "/dev/nvme0n1p1"} <= set(q.context)
    # ... but words that are the topic stay: exit codes, names, quoted messages, short paths
    assert QueryText.parse("exit code 137 OOMKilled").topic == "exit code 137 OOMKilled"
    assert QueryText.parse('lookup fails with "no such host"').topic == 'lookup fails with "no such host"'
    assert QueryText.parse("only one node has /dev/kvm").topic.split()[-1] == "kvm"
    assert QueryText.parse("LIST/WATCH requests failing").topic == "LIST/WATCH requests failing"


def test_an_alerts_labels_do_not_steer_the_search(tmp_path):
    """A namespace that happens to share a word with another runbook's title must not win."""
    svc = make(tmp_path, {
        **SIBLINGS,
        "apps/checkout-latency.md": "# Checkout latency\n\nThe checkout service answers slowly; payments time out.\n",
    })
    alert = {"labels": {"alertname": "AlertmanagerFailedToSendAlerts", "namespace": "checkout",
                        "pod": "checkout-payments-7d9f8b6c5-x2k4q"},
             "annotations": {"description": "Alertmanager checkout/checkout-payments-7d9f8b6c5-x2k4q failed to send "
                                            "notifications."}}
    top = svc.suggest_similar(alert=alert).suggestions
    assert top[0].runbook.id == "alertmanagerfailedtosendalerts"
    assert "checkout-latency" not in [s.runbook.id for s in top]


def test_a_stub_is_read_as_the_runbook_it_points_to(tmp_path):
    svc = make(tmp_path, {
        "node/NodeRAIDDegraded.md": alert_runbook(
            "NodeRAIDDegraded", "A RAID array is degraded because one or more disks failed; swap the failed disk."),
        "node/NodeRAIDDiskFailure.md": "# NodeRAIDDiskFailure\n\nSee [Node RAID Degraded](./NodeRAIDDegraded.md)\n",
        "node/NodeClockSkewDetected.md": alert_runbook("NodeClockSkewDetected", "The node clock drifts."),
    })
    by_name = svc.search("NodeRAIDDiskFailure").results[0]
    assert by_name.id == "noderaiddiskfailure"
    assert by_name.see is not None and by_name.see.id == "noderaiddegraded"
    assert "only points to noderaiddegraded" in by_name.why.note
    # Its words are the target's: a description of the failure finds the stub by its name
    text = svc.search("Failed disk in RAID array, the array needs a disk swap")
    assert {"noderaiddiskfailure", "noderaiddegraded"} == set(ids(text)[:2])


def test_readmes_and_link_lists_rank_below_runbooks(tmp_path):
    links = "\n".join(f"* [Page {i}](page-{i}.md) about redis memory" for i in range(8))
    svc = make(tmp_path, {
        "redis/README.md": f"# Redis\n\nRedis memory eviction, redis out of memory, sentinel failover.\n\n{links}\n",
        "redis/overview.md": f"# Redis pages\n\n{links}\n",
        "redis/redis-out-of-memory.md": "# Redis out of memory\n\nRedis reaches maxmemory and evicts keys; "
                                        "raise maxmemory or find the big keys with `redis-cli --bigkeys`.\n",
    })
    result = svc.search("redis out of memory evicting keys")
    assert result.results[0].id == "redis-out-of-memory"
    readme = svc.search("redis sentinel failover").results[0]  # only the README says it
    assert readme.id == "readme" and "README or list of links" in readme.why.note


def test_near_duplicates_from_two_sources_are_one_hit(tmp_path):
    text = alert_runbook("KubeJobFailed", "A Kubernetes job failed to complete; pods exited with errors.",
                         front="title: Kube Job Failed\n")
    copy = text.split("---\n", 2)[2].replace("## Meaning", "## Summary") + "\nOwner: platform team.\n"
    svc = make(tmp_path, {"upstream/KubeJobFailed.md": text, "team-wiki/KubeJobFailed.md": copy,
                          "other/KubeJobCompletion.md": alert_runbook("KubeJobCompletion", "A job takes too long.")})
    result = svc.search("KubeJobFailed")
    top = result.results[0]
    assert top.path.endswith("KubeJobFailed.md") and len(top.also_in) == 1
    assert {top.path, top.also_in[0].path} == {"upstream/KubeJobFailed.md", "team-wiki/KubeJobFailed.md"}
    assert sum(h.path.endswith("KubeJobFailed.md") for h in result.results) == 1


def test_drafts_rank_below_verified_and_the_status_filter(tmp_path):
    body = "Redis pods are OOMKilled when session objects grow; raise the memory limit and trim sessions.\n"
    svc = make(tmp_path, {
        "static/redis-oom.md": "---\nid: redis-oom\nstatus: verified\n---\n# Redis OOM\n\n" + body,
        # learned from an incident: type dynamic, no status, so a draft
        "dynamic/incidents/redis-sessions.md": "---\nid: redis-sessions\n---\n# Redis sessions grew\n\n" + body,
        "static/old-redis.md": "---\nid: old-redis\nstatus: deprecated\n---\n# Old redis memory\n\n" + body,
    })
    result = svc.search("redis pods OOMKilled session objects")
    assert ids(result)[:2] == ["redis-oom", "redis-sessions"]  # the deprecated one last, if shown at all
    assert [h.status for h in result.results[:2]] == ["verified", "draft"]
    assert "status draft" in result.results[1].why.note
    assert ids(svc.search("redis pods OOMKilled", status="draft")) == ["redis-sessions"]
    assert ids(svc.search("redis pods OOMKilled", status="deprecated")) == ["old-redis"]
    with pytest.raises(InvalidInput, match="status must be one of 'verified', 'draft' or 'deprecated'"):
        svc.search("redis", status="approved")


def test_a_draft_that_repeats_a_verified_runbook_is_folded_under_it(tmp_path):
    body = "# Redis OOM\n\nRedis pods are OOMKilled when session objects grow; raise the memory limit.\n"
    svc = make(tmp_path, {"static/redis-oom.md": "---\nid: redis-oom\nstatus: verified\n---\n" + body,
                          "dynamic/redis-oom.md": "---\nid: redis-oom-learned\n---\n" + body})
    top = svc.search("redis pods OOMKilled session objects").results
    assert [h.id for h in top] == ["redis-oom"] and [r.id for r in top[0].also_in] == ["redis-oom-learned"]


