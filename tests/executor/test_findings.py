"""Reads become findings, and recommendations cite them."""

from __future__ import annotations

from faultmaven_runbooks.executor.findings import Analysis, recommend
from faultmaven_runbooks.executor.models import Option

POD = {"metadata": {"name": "api-7c9-x1"}, "status": {"phase": "Running", "containerStatuses": [{
    "name": "api", "ready": False, "restartCount": 12, "state": {"waiting": {"reason": "CrashLoopBackOff",
                                                                          "message": "back-off 5m0s"}},
    "lastState": {"terminated": {"reason": "Error", "exitCode": 1}}}]}}
LOG = {"pod": "api-7c9-x1", "container": "api", "previous": True,
       "text": "starting api v7\nconfig: PAYMENTS_GATEWAY_URL is not set\nexiting"}
HISTORY = {"kind": "deployment", "name": "api", "revisions": [
    {"revision": 6, "images": {"api": "shop/api:6"}}, {"revision": 7, "images": {"api": "shop/api:7"}}]}
OPTIONS = [Option(id="A", label="If a new revision caused it, roll back:", section="Fix", steps=[11]),
           Option(id="B", label="If it is memory, raise the limit:", section="Fix", steps=[12])]
COMMANDS = {11: "kubectl -n shop rollout undo deployment/api", 12: "kubectl -n shop set resources deployment/api"}


def test_a_crash_after_a_rollout_points_to_rolling_it_back():
    analysis = Analysis()
    analysis.read(6, "pods", POD)
    analysis.read(6, "pods", POD)  # read twice (describe and get): found once
    analysis.read(7, "log", LOG)
    analysis.read(4, "history", HISTORY)
    findings = analysis.findings()
    texts = [f.text for f in findings]
    assert texts == [
        "pod api-7c9-x1 container api: waiting: CrashLoopBackOff (back-off 5m0s); restarted 12 times; "
        "last terminated Error (exit 1)",
        "logs of api-7c9-x1/api (previous container): 'config: PAYMENTS_GATEWAY_URL is not set'",
        "deployment api: revision 7 (current) changed api shop/api:6 -> shop/api:7 from revision 6",
    ]
    lines = recommend(findings, OPTIONS, COMMANDS)
    assert len(lines) == 1 and lines[0].startswith("option A (")
    assert "F3: deployment api: revision 7" in lines[0] and "PAYMENTS_GATEWAY_URL is not set" in lines[0]


def test_events_signals_usage_nodes_and_hpas():
    analysis = Analysis()
    analysis.read(1, "events", {"type": "Warning", "reason": "FailedScheduling", "count": 3,
                                "message": "0/3 nodes are available: 3 Insufficient memory.",
                                "involvedObject": {"kind": "Pod", "name": "api-1"}})
    analysis.read(1, "events", {"type": "Normal", "reason": "Pulled", "involvedObject": {"kind": "Pod", "name": "api-1"}})
    analysis.read(2, "pods", {"metadata": {"name": "db-0"}, "status": {"phase": "Running", "containerStatuses": [{
        "name": "db", "ready": False, "restartCount": 2, "state": {"running": {}},
        "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}}]}})
    analysis.read(3, "usage", {"pod": "db-0", "container": "db", "memory_used": 950.0, "memory_limit": 1000.0,
                               "memory_shown": "950Mi of 1000Mi"})
    analysis.read(4, "nodes", {"metadata": {"name": "n1"}, "status": {"conditions": [
        {"type": "Ready", "status": "False", "reason": "KubeletNotReady"}]}})
    analysis.read(5, "horizontalpodautoscalers", {"metadata": {"name": "api"}, "spec": {"maxReplicas": 4},
                                                  "status": {"currentReplicas": 4}})
    kinds = {f.kind: f.text for f in analysis.findings()}
    assert kinds["event"].startswith("warning event FailedScheduling x3 on pod/api-1")
    assert "last terminated OOMKilled (exit 137, SIGKILL)" in kinds["oomkilled"]
    assert kinds["usage_near_limit"] == "pod db-0 container db uses 95% of its memory limit (950Mi of 1000Mi)"
    assert kinds["node_condition"] == "node n1: Ready=False (KubeletNotReady)"
    assert kinds["hpa_maxed"] == "HPA api runs at maxReplicas (4/4)"
    assert "Pulled" not in str(kinds)
    lines = recommend(analysis.findings(), OPTIONS, COMMANDS)
    assert [line[:9] for line in lines] == ["option B "]
