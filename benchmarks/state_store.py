"""State store latency on SQLite and on PostgreSQL (a server this script starts, fsync on).

learn: the repository calls one `learn` will make: every pattern's centroid (cached: only
patterns saved since are decoded), then in one transaction the idempotency lookup, read and
compare-and-set of the matched pattern, the incident row, similar incidents, resolution /
runbook / analytics counters, with 100 and with 10,000
incidents recorded (spread over 20 and 200 patterns of 384-dimension centroids). Target: the
whole `learn` under 20 ms at 10,000, so this must be a small part of it.

list: the first page of executions (newest 20, with the total) out of 10,000 records, plus a
filtered page and a page deep in the cursor chain. Target < 50 ms.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/state_store.py [--backend both|sqlite|postgresql] [--runs 200]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import percentile, table  # noqa: E402
from faultmaven_runbooks.settings import Settings  # noqa: E402
from faultmaven_runbooks.storage import open_store  # noqa: E402
from tests.storage.pg_server import PostgresServer  # noqa: E402

DIM = 384
START = dt.datetime(2031, 1, 1, tzinfo=dt.timezone.utc)


class Clock:
    def __init__(self):
        self.at = START

    def __call__(self) -> dt.datetime:
        self.at += dt.timedelta(seconds=1)
        return self.at


def unit(rng: random.Random) -> list[float]:
    v = [rng.gauss(0, 1) for _ in range(DIM)]
    norm = sum(x * x for x in v) ** 0.5
    return [round(x / norm, 6) for x in v]


def pattern(pid: str, rng: random.Random, now: dt.datetime) -> dict:
    return {"id": pid, "name": pid, "centroid": unit(rng), "members": 0, "successes": 0, "failures": 0,
            "seconds_total": 0.0, "timed": 0, "types": {"pod_crash": 1}, "diagnoses": {"memory limit": 1},
            "solutions": {"increase memory limit": {"uses": 1, "successes": 1}}, "triggers": {"OOMKilled": 1},
            "context": {"service": {"api": 3, "web": 1}}, "runbook_id": None, "runbook_path": None,
            "incident_runbooks": [], "linked_runbooks": {}, "created": now.isoformat(), "last_seen": now.isoformat()}


def populate_learning(store, incidents: int, patterns: int, rng: random.Random) -> None:
    with store.transaction() as tx:
        for p in range(patterns):
            tx.patterns.add(pattern(f"pattern-{p}", rng, store.clock()))
        for n in range(incidents):
            tx.incidents.add(f"pattern-{n % patterns}", {"success": True, "seconds": 300.0,
                                                          "resolution": ["increase memory limit"]}, f"INC-{n}")


def one_learn(store, n: int, patterns: int) -> None:
    """The store side of one `learn` (matching itself is the feature's, not measured here)."""
    incident_id = f"NEW-{n}"
    pid = f"pattern-{n % patterns}"
    store.patterns.candidates()  # matching happens before the transaction, on the cached centroids
    with store.transaction() as tx:
        tx.incidents.get(incident_id)
        stored = tx.patterns.get(pid)
        changed = dict(stored.pattern, members=stored.pattern["members"] + 1,
                       successes=stored.pattern["successes"] + 1, last_seen=store.clock().isoformat())
        tx.patterns.save(changed, stored.revision)
        tx.incidents.add(pid, {"success": True, "seconds": 240.0, "resolution": ["increase memory limit"]},
                         incident_id)
        tx.incidents.recent_ids(pid, 5, exclude=incident_id)
        tx.outcomes.add_resolution("increase memory limit", uses=1, successes=1, seconds_total=240.0, timed=1,
                                   side_effects={"brief restart": 1})
        tx.outcomes.add_runbook("pod-oomkilled", uses=1, resolved=1, seconds_total=240.0, timed=1)
        tx.usage.add_resolution("pod-oomkilled", 240.0)


def execution(n: int, rng: random.Random) -> dict:
    created = (START + dt.timedelta(minutes=n)).isoformat()
    steps = [{"step": s, "description": "Check the pod", "command": f"kubectl get pod web-{n} -n prod",
              "classification": "read", "result": "success", "output": "NAME READY STATUS\n" + "x" * 200}
             for s in range(8)]
    return {"execution_id": f"exec-{n:012x}", "runbook_id": f"runbook-{rng.randrange(40)}",
            "status": rng.choice(["completed", "dry_run_completed", "failed", "awaiting_approval"]),
            "mode": "semi-automated", "dry_run": True, "requester": rng.choice(["claude", "alice", "n8n"]),
            "created": created, "updated": created, "plan_hash": f"sha256:{n:064x}", "steps": steps,
            "summary": {"success": 8}, "recommendations": [], "context": {"namespace": "prod"}}


def timed(fn, runs: int) -> list[float]:
    out = []
    for n in range(runs):
        started = time.perf_counter()
        fn(n)
        out.append((time.perf_counter() - started) * 1000)
    return out


def bench(name: str, url: str | None, runs: int) -> list[list[object]]:
    rows = []
    for incidents, patterns in ((100, 20), (10_000, 200)):
        store = open_store(Settings(_env_file=None, data_dir=Path(tempfile.mkdtemp()), database_url=url), Clock())
        populate_learning(store, incidents, patterns, random.Random(incidents))
        ms = timed(lambda n: one_learn(store, n, patterns), runs)
        scan = timed(lambda n: store.patterns.candidates(), runs)
        cold = timed(lambda n: type(store)(store.engine).patterns.candidates(), 5)  # a fresh cache
        rows.append([name, f"learn, {incidents} incidents / {patterns} patterns", percentile(ms, 50),
                     percentile(ms, 95), f"centroid scan p50 {percentile(scan, 50):.2f} ms (cold {percentile(cold, 50):.1f})"])
        store.close()
        url = url and _fresh(url)
    store = open_store(Settings(_env_file=None, data_dir=Path(tempfile.mkdtemp()), database_url=url), Clock())
    rng = random.Random(7)
    with store.transaction() as tx:
        for n in range(10_000):
            tx.executions.add(execution(n, rng), cluster="prod")
    deep = store.executions.page(limit=20)
    for _ in range(49):
        deep = store.executions.page(limit=20, cursor=deep.next_cursor)
    cases = [("first page + total", lambda n: (store.executions.page(limit=20), store.executions.count())),
             ("one runbook's, failed only", lambda n: store.executions.page(limit=20, runbook_id="runbook-3",
                                                                             status="failed")),
             ("page 51 by cursor", lambda n: store.executions.page(limit=20, cursor=deep.next_cursor))]
    for label, fn in cases:
        ms = timed(fn, runs)
        rows.append([name, f"list executions of 10,000: {label}", percentile(ms, 50), percentile(ms, 95), ""])
    store.close()
    return rows


_SERVER: PostgresServer | None = None


def _fresh(_url: str) -> str:
    return _SERVER.create_database()


def main() -> None:
    global _SERVER
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=["both", "sqlite", "postgresql"], default="both")
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    rows = []
    if args.backend in ("both", "sqlite"):
        rows += bench("SQLite", None, args.runs)
    if args.backend in ("both", "postgresql"):
        _SERVER = PostgresServer(fsync=True).start()
        try:
            rows += bench("PostgreSQL", _SERVER.create_database(), args.runs)
        finally:
            _SERVER.destroy()
    print(table(["store", "operation", "p50 ms", "p95 ms", "note"], rows))


if __name__ == "__main__":
    main()
