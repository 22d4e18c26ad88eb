"""Two replicas (service + HTTP server each) sharing one real `chroma run` server and one library."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from faultmaven_runbooks.service import RunbookService
from tests.http.http_support import RUNBOOKS, TOKEN, free_socket, make_settings, write_library

pytestmark = [pytest.mark.chroma_server, pytest.mark.long]

CHROMA = Path(sys.executable).parent / "chroma"


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    exe = CHROMA if CHROMA.exists() else shutil.which("chroma")
    if not exe:
        pytest.skip("the chroma CLI is not installed")
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    path = tmp_path_factory.mktemp("chroma-db")
    log = open(path.parent / "chroma.log", "wb")  # noqa: SIM115 (the server writes it until the fixture ends)
    proc = subprocess.Popen([str(exe), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            pytest.fail(f"chroma run did not start: {(path.parent / 'chroma.log').read_text()[-2000:]}")
        time.sleep(0.2)
    yield port
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="module")
def replicas(chroma_server, start_server, tmp_path_factory):
    library = write_library(tmp_path_factory.mktemp("shared-library"))
    servers = []
    for name in ("a", "b"):
        settings = make_settings(library, tmp_path_factory.mktemp(f"replica-{name}"), auth_token=TOKEN,
                                 chroma_host="127.0.0.1", chroma_port=chroma_server, collection="shared-runbooks")
        service = RunbookService(settings)
        servers.append((service, start_server(service=service, mcp=False)))
    for service, _ in servers:
        service.ready()  # a search never waits for indexing: the tests compare complete indexes
    return servers


def _get(live, path, **params):
    return httpx.get(f"{live.url}{path}", params=params, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)


def _eventually_first(live, query: str, runbook_id: str, seconds: float = 15, snippet: str = "") -> dict:
    """The top hit for `query` once it is `runbook_id` (and its snippet shows `snippet`):
    replicas re-check the shared collection every few seconds, so another replica's write
    shows up within that. The shared vectors can lead the replica's text mirror by that much."""
    deadline = time.time() + seconds
    while True:
        hits = _get(live, "/runbooks/search", q=query).json()["results"]
        if hits and hits[0]["id"] == runbook_id and snippet in hits[0]["snippet"]:
            return hits[0]
        assert time.time() < deadline, hits
        time.sleep(0.5)


def test_replicas_use_the_chroma_server_not_a_local_store(replicas):
    for service, live in replicas:
        health = _get(live, "/runbooks/health").json()
        assert health["chroma"].startswith("127.0.0.1:")
        assert not (Path(service.settings.data_dir) / "chroma").exists()


@pytest.mark.parametrize(
    "query, expected",
    [
        ("pod CrashLoopBackOff restarting", "pod-crashloop"),
        ("NodeFilesystemSpaceFillingUp disk", "disk-full"),
        ("redis OOMKilled connection refused 6379", "redis-oom"),
        ("p99 latency after a deployment", "api-latency"),
    ],
)
def test_both_replicas_answer_the_same(replicas, query, expected):
    answers = [_get(live, "/runbooks/search", q=query, limit=3).json()["results"] for _, live in replicas]
    assert answers[0][0]["id"] == expected
    assert [h["id"] for h in answers[0]] == [h["id"] for h in answers[1]]
    assert answers[0][0]["relevance_score"] == pytest.approx(answers[1][0]["relevance_score"], abs=1e-6)


def test_one_chroma_collection_holds_one_copy(replicas):
    import chromadb

    service, _ = replicas[0]
    client = chromadb.HttpClient(host="127.0.0.1", port=service.settings.chroma_port)
    collection = client.get_collection("shared-runbooks")
    ids = collection.get(include=[])["ids"]
    assert len(ids) == len(set(ids)) > 0
    assert len({m["path"] for m in collection.get(include=["metadatas"])["metadatas"]}) == len(RUNBOOKS)


def test_a_runbook_written_on_one_replica_is_found_on_the_other(replicas):
    (svc_a, live_a), (_svc_b, live_b) = replicas
    if getattr(svc_a, "authoring", None) is None:
        pytest.skip("authoring is not in this checkout")
    r = httpx.post(f"{live_a.url}/runbooks/create", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60,
                   json={"title": "Zookeeper Session Expiry Storm", "severity": "high",
                         "content": "## Steps\nCheck zookeeper session expiry with `kubectl logs zk-0 -n data`."})
    assert r.status_code == 201, r.text
    _eventually_first(live_b, "zookeeper session expiry", r.json()["id"])
    assert _get(live_b, f"/api/v1/runbooks/{r.json()['id']}").status_code == 200


def test_an_edit_that_keeps_the_chunk_count_reaches_the_other_replica(replicas):
    (svc_a, live_a), (_svc_b, live_b) = replicas
    if getattr(svc_a, "authoring", None) is None:
        pytest.skip("authoring is not in this checkout")
    text = (svc_a.settings.library_dir / "static/storage/disk-full.md").read_text()
    body = text.split("\n---\n", 1)[1].replace("pods get evicted", "pods get evicted by QuokkaFluxError")
    r = httpx.put(f"{live_a.url}/runbooks/disk-full", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60,
                  json={"content": body})
    assert r.status_code == 200, r.text
    # A made-up error name: only B's keyword mirror, rebuilt from the shared collection, knows it.
    assert _eventually_first(live_b, "QuokkaFluxError", "disk-full", snippet="QuokkaFluxError")
