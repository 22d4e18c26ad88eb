"""Two replicas, each a real `faultmaven-runbooks serve` process, sharing one PostgreSQL, one
`chroma run` server, one library and one (fake) Kubernetes cluster, behind no sticky sessions:
a plan made on A is approved on B and applied once; ten people approving one plan at the same
moment through both replicas apply it once; what A learns B knows; analytics count once."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import httpx
import pytest

from faultmaven_runbooks.executor.approvers import for_settings
from faultmaven_runbooks.settings import Settings
from tests.executor.fake_kube import CTX, NS, POD, FakeKube, seed
from tests.http.test_chroma_server import chroma_server  # noqa: F401  (the module's real `chroma run`)
from tests.serving import ServeProcess

pytestmark = [pytest.mark.chroma_server, pytest.mark.long]

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "api-token-for-the-replicas-0123456789"
API = {"Authorization": f"Bearer {TOKEN}"}
SET_RESOURCES, DELETE_POD = 9, 10  # the sampler's two changes


@pytest.fixture(scope="module")
def kube():
    fake = seed(FakeKube()).start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def replicas(chroma_server, postgres, kube, tmp_path_factory):  # noqa: F811
    root = tmp_path_factory.mktemp("replicas")
    library = root / "library"  # the runbooks the tests use: each replica indexes it at start
    shutil.copytree(ROOT / "tests" / "executor" / "fixtures" / "library", library)
    shutil.copy(ROOT / "runbooks" / "static" / "compute" / "pod-oomkilled.md", library / "static")
    url = postgres.create_database()
    env = {"FAULTMAVEN_RUNBOOKS_DATABASE_URL": url, "FAULTMAVEN_RUNBOOKS_CHROMA_HOST": "127.0.0.1",
           "FAULTMAVEN_RUNBOOKS_CHROMA_PORT": str(chroma_server), "FAULTMAVEN_RUNBOOKS_COLLECTION": "replica-state",
           "FAULTMAVEN_RUNBOOKS_KUBECONFIG": str(kube.kubeconfig(root / "kubeconfig")),
           "FAULTMAVEN_RUNBOOKS_AUTH_TOKEN": TOKEN}
    servers = []
    try:
        for name in ("a", "b"):  # each its own data dir: nothing is shared through files
            servers.append(ServeProcess(library, root / f"data-{name}", env))
        for server in servers:  # a search never waits for indexing: the library is in before any test
            server.wait_until_indexed()
        # An operator adds an approver once, on any host: every replica knows the credential.
        approver = for_settings(Settings(_env_file=None, data_dir=root / "ops", database_url=url))
        yield servers[0].url, servers[1].url, approver.add("alice"), approver.add("bob")
    finally:
        for server in servers:
            server.stop()


def _plan(url: str, step: int) -> dict:
    answer = httpx.post(f"{url}/runbooks/execute", headers=API, timeout=60, json={
        "runbook_id": "exec-sampler", "context": CTX, "parameters": {"dry_run": False, "steps": [step]}})
    assert answer.status_code == 200 and answer.json()["status"] == "awaiting_approval", answer.text
    return answer.json()


def _approve(url: str, execution_id: str, token: str) -> httpx.Response:
    return httpx.post(f"{url}/runbooks/executions/{execution_id}/approve",
                      headers={"Authorization": f"Bearer {token}"}, timeout=60)


def test_a_plan_made_on_one_replica_is_approved_on_the_other_and_applied_once(replicas, kube):
    a, b, alice, _ = replicas
    run = _plan(a, DELETE_POD)
    shown = httpx.get(f"{b}/runbooks/executions/{run['execution_id']}", headers=API, timeout=30)
    assert shown.status_code == 200 and shown.json()["plan_hash"] == run["plan_hash"]
    done = _approve(b, run["execution_id"], alice)
    assert done.status_code == 200 and done.json()["status"] == "completed", done.text
    assert _approve(a, run["execution_id"], alice).status_code == 409  # decided once, for every replica
    deletes = [r for r in kube.changes() if r["method"] == "DELETE" and POD in r["path"]]
    assert len(deletes) == 1 and kube.get("pods", POD, NS) is None
    seen_on_a = httpx.get(f"{a}/runbooks/executions/{run['execution_id']}", headers=API, timeout=30).json()
    assert seen_on_a["status"] == "completed" and seen_on_a["approval"]["approver"] == "alice"


def test_ten_approvals_at_once_through_both_replicas_apply_the_change_once(replicas, kube):
    a, b, alice, bob = replicas
    run = _plan(b, SET_RESOURCES)
    patches_before = len([r for r in kube.changes() if r["method"] == "PATCH"])
    kube.apply_delay = 0.5  # the winner's change is still on the wire while the others arrive
    barrier, answers = threading.Barrier(10), []

    def approve(n: int) -> None:
        barrier.wait()
        answers.append(_approve((a, b)[n % 2], run["execution_id"], (alice, bob)[n // 5]))

    threads = [threading.Thread(target=approve, args=(n,)) for n in range(10)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        kube.apply_delay = 0
    codes = sorted(answer.status_code for answer in answers)
    assert codes == [200] + [409] * 9, [answer.text for answer in answers]
    assert len([r for r in kube.changes() if r["method"] == "PATCH"]) == patches_before + 1


def test_what_one_replica_learns_the_other_knows_and_counts_once(replicas):
    a, b, _, _ = replicas
    incident = {"id": "INC-77", "type": "pod_crash", "symptoms": ["OOMKilled events"],
                "diagnosis": ["memory_limit_exceeded"], "resolution": ["increase_memory_limit"], "success": True,
                "duration": "5m", "runbook_used": "pod-oomkilled"}
    first = httpx.post(f"{a}/runbooks/learn", headers=API, json={"incident_data": incident}, timeout=60).json()
    patterns = httpx.get(f"{b}/runbooks/patterns", headers=API, timeout=30).json()
    assert patterns["total_incidents"] == 1 and first["pattern_id"] in patterns["incident_patterns"]
    again = httpx.post(f"{b}/runbooks/learn", headers=API, json={"incident_data": incident}, timeout=60).json()
    assert again["updated"] and again["pattern_id"] == first["pattern_id"]  # B knew A had learned it
    for url in (a, b):
        data = httpx.get(f"{url}/runbooks/patterns", headers=API, timeout=30).json()
        assert data["total_incidents"] == 1 and data["runbook_outcomes"]["pod-oomkilled"]["uses"] == 1


def _row(url: str, runbook_id: str) -> dict:
    """One runbook's analytics; asking also saves the replica's buffered retrieval counts."""
    answer = httpx.get(f"{url}/runbooks/analytics", headers=API, params={"runbook_id": runbook_id}, timeout=30)
    return answer.json()["runbooks"][0]


def test_analytics_add_up_across_replicas_and_count_once(replicas):
    a, b, _, _ = replicas
    _row(a, "pod-oomkilled")  # nothing buffered on either replica from here on
    before = _row(b, "pod-oomkilled")
    for url in (a, b):
        hits = httpx.get(f"{url}/runbooks/search", headers=API, params={"q": "pod OOMKilled exit code 137"},
                         timeout=60).json()["results"]
        assert hits[0]["id"] == "pod-oomkilled"
    incident = {"id": "INC-88", "type": "pod_crash", "diagnosis": ["memory_limit_exceeded"], "success": True,
                "resolution": ["increase_memory_limit"], "duration": "5m", "runbook_used": "pod-oomkilled"}
    for url in (a, b):  # the same incident through both replicas
        httpx.post(f"{url}/runbooks/learn", headers=API, json={"incident_data": incident}, timeout=60)
    _row(a, "pod-oomkilled")
    after_b, after_a = _row(b, "pod-oomkilled"), _row(a, "pod-oomkilled")
    for after in (after_a, after_b):
        assert after["retrievals"] == before["retrievals"] + 2  # one search on each replica
        assert after["resolutions"] == before["resolutions"] + 1  # one incident, sent to both
    finished = httpx.get(f"{a}/runbooks/executions", headers=API, params={"status": "completed", "limit": 50},
                         timeout=30).json()["executions"]
    assert _row(a, "exec-sampler")["executions"] == _row(b, "exec-sampler")["executions"] == len(finished)
