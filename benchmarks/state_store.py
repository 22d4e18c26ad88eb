"""State-store latency through the real service, on SQLite and on PostgreSQL (a server this script
starts, fsync on).

learn: `RunbookService.learning.learn` with 100 and with 10,000 incidents recorded. Incidents
come from learning_replay.py's generator (12 underlying patterns), so new ones match patterns as
they do in use; every timed call is a new incident id and embeds its text with the service's
model. "statistics" is what a FaultMaven case feeds (write_runbooks=False); "with runbook" also
rewrites the matched pattern's dynamic runbook through the library writer (the version it
replaces kept) and re-indexes it, which is the search index's work more than the store's.
Target: learn < 20 ms at 10,000 incidents.

list: `RunbookService.executions.list_executions` over 10,000 execution records (copies of one
real record made against the fake Kubernetes API): the first page, one runbook's failed ones,
and page 51 by cursor. Target < 50 ms.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/state_store.py [--backend both|sqlite|postgresql]
        [--runs 200] [--embedder real|hash]
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import ROOT, percentile, table  # noqa: E402
from benchmarks.learning_replay import generate  # noqa: E402
from faultmaven_runbooks.settings import BUNDLED_MODEL, Settings  # noqa: E402
from tests.storage.pg_server import PostgresServer  # noqa: E402

START = dt.datetime(2031, 1, 1, tzinfo=dt.UTC)
POPULATION_SEED, TIMED_SEED = 11, 12


class Clock:
    """One second later at every call: incidents and executions get distinct, ordered times."""

    def __init__(self):
        self.at = START

    def __call__(self) -> dt.datetime:
        self.at += dt.timedelta(seconds=1)
        return self.at


def service_on(root: Path, url: str | None, model: str):
    from faultmaven_runbooks.service import RunbookService

    library = root / "library"
    shutil.copytree(ROOT / "runbooks", library)
    shutil.copytree(ROOT / "tests" / "executor" / "fixtures" / "library", library, dirs_exist_ok=True)
    settings = Settings(_env_file=None, library_dir=library, data_dir=root / "data", database_url=url,
                        embedding_model=model)
    service = RunbookService(settings, clock=Clock())
    service.reindex()
    return service


def populate_learning(service, incidents: int) -> None:
    """`incidents` learned through the service (texts embedded once, in a batch: the model is
    measured elsewhere; the state is what learn itself leaves)."""
    from faultmaven_runbooks.learning.patterns import incident_text
    from faultmaven_runbooks.learning.validate import check_incident

    population = generate(incidents, POPULATION_SEED)
    texts = sorted({incident_text(check_incident(inc)) for _, inc, _ in population})
    cache = dict(zip(texts, service.embed(texts), strict=True))
    learning, embed = service.learning, service.learning.embed
    learning.embed = lambda batch: [cache[t] for t in batch]
    try:
        for _, incident, context in population:
            learning.learn({**incident, "id": f"OLD-{incident['id']}"}, context, write_runbooks=False)
    finally:
        learning.embed = embed


def timed(fn, runs: int) -> list[float]:
    out = []
    for n in range(runs):
        started = time.perf_counter()
        fn(n)
        out.append((time.perf_counter() - started) * 1000)
    return out


def bench_learn(name: str, url_for, runs: int, model: str) -> list[list[object]]:
    rows = []
    timed_incidents = generate(2 * runs, TIMED_SEED)
    for incidents in (100, 10_000):
        root = Path(tempfile.mkdtemp(prefix="state-bench-"))
        url = url_for()
        with fast_commits(url):
            service = service_on(root, url, model)
            populate_learning(service, incidents)
        learn = service.learning.learn
        service.embed(["warm up"])
        for label, write in (("statistics", False), ("with runbook", True)):
            offset = 0 if not write else runs

            def one(n: int, offset: int = offset, write: bool = write, learn=learn) -> None:
                _, incident, context = timed_incidents[offset + n]
                learn({**incident, "id": f"NEW-{offset + n}"}, context, write_runbooks=write)

            ms = timed(one, runs)
            rows.append([name, f"learn ({label}), {incidents:,} incidents recorded", percentile(ms, 50),
                         percentile(ms, 95)])
        service.close()
        shutil.rmtree(root, ignore_errors=True)
    return rows


def bench_list(name: str, url: str | None, runs: int) -> list[list[object]]:
    from kubernetes import client as k8s

    from tests.executor.fake_kube import CTX, FakeKube, seed

    root = Path(tempfile.mkdtemp(prefix="state-bench-"))
    service = service_on(root, url, "hash:256")
    kube = seed(FakeKube()).start()
    executor = service.make_executions(kube_configuration=k8s.Configuration(host=kube.url))
    record = executor.execute("exec-sampler", CTX).model_dump(mode="json")  # every read step ran
    kube.stop()
    with fast_commits(url), service.store.transaction() as tx:
        for n in range(10_000):
            at = (START + dt.timedelta(minutes=n)).isoformat(timespec="seconds")
            tx.executions.add({**record, "execution_id": f"exec-{n:012x}", "created": at, "updated": at,
                               "runbook_id": "exec-sampler" if n % 40 else "pod-oomkilled",
                               "status": "failed" if n % 7 == 0 else record["status"]}, cluster="bench")
    listing = service.executions.list_executions
    deep = listing(limit=20)
    for _ in range(50):
        deep = listing(limit=20, cursor=deep.next_cursor)
    cases = [("first page", lambda n: listing(limit=10)),
             ("one runbook's failed ones", lambda n: listing(limit=10, runbook_id="pod-oomkilled", status="failed")),
             ("page 51 by cursor", lambda n: listing(limit=20, cursor=deep.next_cursor))]
    rows = []
    for label, fn in cases:
        ms = timed(fn, runs)
        rows.append([name, f"list_executions of 10,000: {label}", percentile(ms, 50), percentile(ms, 95)])
    executor.close()
    service.close()
    shutil.rmtree(root, ignore_errors=True)
    return rows


_SERVER: PostgresServer | None = None


class fast_commits:
    """Filling the database with history, commits need not wait for the disk (PostgreSQL's
    synchronous_commit=off for the whole server); the timed calls run with it back on."""

    def __init__(self, url: str | None):
        self.on = url is not None

    def _set(self, value: str | None) -> None:
        import psycopg

        with psycopg.connect(_SERVER.url(), autocommit=True) as conn:
            conn.execute("ALTER SYSTEM RESET synchronous_commit" if value is None else
                         f"ALTER SYSTEM SET synchronous_commit = {value}")
            conn.execute("SELECT pg_reload_conf()")

    def __enter__(self):
        if self.on:
            self._set("off")

    def __exit__(self, *exc):
        if self.on:
            self._set(None)


def main() -> None:
    global _SERVER
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=["both", "sqlite", "postgresql"], default="both")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--embedder", choices=["real", "hash"], default="real")
    args = parser.parse_args()
    model = BUNDLED_MODEL if args.embedder == "real" else "hash:256"
    rows = []
    if args.backend in ("both", "sqlite"):
        rows += bench_learn("SQLite", lambda: None, args.runs, model) + bench_list("SQLite", None, args.runs)
    if args.backend in ("both", "postgresql"):
        _SERVER = PostgresServer(fsync=True).start()
        try:
            rows += bench_learn("PostgreSQL", _SERVER.create_database, args.runs, model)
            rows += bench_list("PostgreSQL", _SERVER.create_database(), args.runs)
        finally:
            _SERVER.destroy()
    print(f"embedder: {args.embedder}; {args.runs} calls per row")
    print(table(["store", "operation", "p50 ms", "p95 ms"], rows))


if __name__ == "__main__":
    main()
