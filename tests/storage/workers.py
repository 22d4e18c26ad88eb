"""Code that the concurrency tests run in separate processes (each its own engine: a replica)."""

from __future__ import annotations

import multiprocessing
import threading
import traceback
from pathlib import Path

from faultmaven_runbooks.settings import Settings
from faultmaven_runbooks.storage import StaleWrite, open_store

# Replicas are real processes, each with its own engine, forked from a server process that has
# imported this module once and holds no engine or thread (spawn imported the store again in
# every replica: half a second each).
REPLICAS = multiprocessing.get_context("forkserver")
REPLICAS.set_forkserver_preload([__name__])


def _store(data_dir: str, url: str | None):
    return open_store(Settings(_env_file=None, data_dir=Path(data_dir), database_url=url))


def start(data_dir, url, barrier, outcomes) -> None:
    """A replica starting: open_store migrates the (empty) database if nobody did yet."""
    barrier.wait(timeout=60)
    try:
        _store(data_dir, url).close()
        outcomes.put("started")
    except Exception:
        outcomes.put(traceback.format_exc())


def decide(data_dir, url, records, threads, barrier, results, name) -> None:
    """`threads` deciders race on each record; every win is reported as (execution id, decider)."""
    store = _store(data_dir, url)

    def run(n: int) -> None:
        for record in records:
            barrier.wait(timeout=60)  # all deciders of all processes start each round together
            approver = f"{name}-{n}"
            if store.executions.claim_approval({**record, "status": "applying", "approver": approver}):
                results.put((record["execution_id"], approver))

    workers = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    store.close()


def count(data_dir, url, rounds, barrier) -> None:
    """Counter increments and incident records, as concurrent `learn` and searches make them."""
    store = _store(data_dir, url)
    barrier.wait(timeout=60)
    for n in range(rounds):
        store.usage.add_retrievals({"pod-oomkilled": 1, "disk-full": 2})
        store.outcomes.add_resolution("raise memory limit", uses=1, successes=1, side_effects={"restart": 1})
        store.incidents.add("shared", {"n": n}, f"INC-{n}")  # the other process sends the same ids
    store.close()


def learn_like(data_dir, url, rounds, threads, barrier) -> None:
    """Read-modify-write of one pattern under its revision, retried on StaleWrite, from threads."""
    store = _store(data_dir, url)

    def run() -> None:
        barrier.wait(timeout=60)
        for _ in range(rounds):
            while True:
                stored = store.patterns.get("shared")
                try:
                    store.patterns.save({**stored.pattern, "members": stored.pattern["members"] + 1}, stored.revision)
                    break
                except StaleWrite:
                    continue

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    store.close()
