"""Replicas racing on one database: two processes (two engines, two pools), threads in each.

Exactly one of ten concurrent deciders wins each approval; counters and incidents add up to
exactly what was sent; a pattern's read-modify-write loses no update.
"""

from __future__ import annotations

import queue
from collections import Counter

from . import workers
from .support import execution, pattern
from .workers import REPLICAS


def _run(target, *args, named: bool = False) -> None:
    """The target in two processes at once (with its replica's name as last argument if `named`)."""
    procs = [REPLICAS.Process(target=target, args=(*args, f"replica-{n}") if named else args) for n in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=240)
        assert p.exitcode == 0, f"worker {p.name} ended with {p.exitcode}"


def _where(settings) -> tuple[str, str | None]:
    return str(settings.data_dir), settings.database_url


def test_ten_deciders_on_two_replicas_approve_each_execution_exactly_once(store, db_settings):
    records = [execution(f"exec-{n:012x}") for n in range(15)]
    for record in records:
        store.executions.add(record)
    barrier, results = REPLICAS.Barrier(10), REPLICAS.Queue()
    _run(workers.decide, *_where(db_settings), records, 5, barrier, results, named=True)
    wins = []
    while True:
        try:
            wins.append(results.get(timeout=1))
        except queue.Empty:
            break
    per_execution = Counter(execution_id for execution_id, _ in wins)
    assert per_execution == {r["execution_id"]: 1 for r in records}
    for execution_id, approver in wins:
        stored = store.executions.get(execution_id)
        assert stored.status == "applying" and stored.record["approver"] == approver
    assert {a.split("-")[1] for _, a in wins} <= {"0", "1"}


def test_counters_and_incidents_from_two_processes_add_up_exactly(store, db_settings):
    rounds = 150
    store.patterns.add(pattern("shared"))
    _run(workers.count, *_where(db_settings), rounds, REPLICAS.Barrier(2))
    usage = store.usage.all()
    assert usage["pod-oomkilled"]["retrievals"] == 2 * rounds and usage["disk-full"]["retrievals"] == 4 * rounds
    assert store.outcomes.resolutions()["raise memory limit"] == {
        "uses": 2 * rounds, "successes": 2 * rounds, "failures": 0, "seconds_total": 0.0, "timed": 0,
        "side_effects": {"restart": 2 * rounds}}
    # Both processes sent INC-0..INC-149: each is recorded and counted once.
    assert store.incidents.total() == rounds
    assert len(store.incidents.page("shared", limit=500).items) == rounds


def test_concurrent_pattern_updates_lose_nothing(store, db_settings):
    store.patterns.add(pattern("shared", members=0))
    rounds, threads = 15, 3
    _run(workers.learn_like, *_where(db_settings), rounds, threads, REPLICAS.Barrier(2 * threads))
    saved = store.patterns.get("shared")
    assert saved.pattern["members"] == 2 * threads * rounds
    assert saved.revision == 1 + 2 * threads * rounds
