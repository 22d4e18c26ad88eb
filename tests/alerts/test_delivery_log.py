"""The delivery log on SQLite and a real PostgreSQL server: a claim is won by exactly one of many
racing callers (threads, replicas), a finished delivery is never reopened, dead letters list."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from faultmaven_runbooks.storage.deliveries import DEAD, DELIVERED, PENDING, UNDELIVERED

EVENT = {"fingerprint": "fp", "transition": "new", "alertname": "KubePodCrashLooping"}


def _race(claimers, key: str = "fp:new", channel: str = "slack") -> list[bool]:
    """Every claimer claims the same delivery at the same moment."""
    start = threading.Barrier(len(claimers))

    def claim(log):
        start.wait()
        return log.claim(key, channel, EVENT)

    with ThreadPoolExecutor(len(claimers)) as pool:
        return list(pool.map(claim, claimers))


def test_one_claim_wins_among_threads_on_two_replicas(store, replica):
    other = replica()
    wins = _race([store.deliveries] * 4 + [other.deliveries] * 4)
    assert wins.count(True) == 1
    assert store.deliveries.get("fp:new", "slack").status == PENDING
    assert store.deliveries.claim("fp:new", "pagerduty", EVENT) is True  # per channel


def test_a_delivery_cut_short_by_shutdown_is_taken_up_again_once(store, replica):
    store.deliveries.claim("fp:new", "slack", EVENT)
    store.deliveries.undelivered("fp:new", "slack", "shutdown before it was sent")
    assert store.deliveries.unfinished(10) == [EVENT]
    wins = _race([store.deliveries] * 3 + [replica().deliveries] * 3)
    assert wins.count(True) == 1
    record = store.deliveries.get("fp:new", "slack")
    assert record.status == PENDING and record.reason is None
    assert store.deliveries.unfinished(10) == []


def test_a_finished_delivery_is_never_reopened_or_overturned(store, clock):
    store.deliveries.claim("fp:new", "slack", EVENT)
    store.deliveries.record_attempt("fp:new", "slack", status_code=503, error="HTTP 503")
    clock.advance(seconds=5)
    store.deliveries.record_attempt("fp:new", "slack", status_code=200, error=None)
    store.deliveries.delivered("fp:new", "slack")
    store.deliveries.dead_letter("fp:new", "slack", "late writer")
    store.deliveries.undelivered("fp:new", "slack", "late shutdown")
    assert store.deliveries.claim("fp:new", "slack", EVENT) is False
    record = store.deliveries.get("fp:new", "slack")
    assert (record.status, record.attempts, record.last_status_code) == (DELIVERED, 2, 200)
    assert record.delivered_at == clock() and record.reason is None


def test_dead_letters_page_newest_first(store, clock):
    for n in range(5):
        key = f"fp-{n}:new"
        store.deliveries.claim(key, "webhook", {**EVENT, "fingerprint": f"fp-{n}"})
        clock.advance(seconds=1)
        if n % 2:
            store.deliveries.delivered(key, "webhook")
        else:
            store.deliveries.dead_letter(key, "webhook", f"gave up after try 6: HTTP 503 ({n})")
    first = store.deliveries.page(2, status=DEAD)
    rest = store.deliveries.page(2, first.next_cursor, status=DEAD)
    assert [r.event_key for r in first.items + rest.items] == ["fp-4:new", "fp-2:new", "fp-0:new"]
    assert rest.next_cursor is None


def test_unfinished_lists_each_event_once_oldest_first(store, clock):
    for fingerprint in ("b", "a"):
        for channel in ("slack", "pagerduty"):
            store.deliveries.claim(f"{fingerprint}:new", channel, {**EVENT, "fingerprint": fingerprint})
            store.deliveries.undelivered(f"{fingerprint}:new", channel, "shutdown")
        clock.advance(seconds=1)
    assert [e["fingerprint"] for e in store.deliveries.unfinished(10)] == ["b", "a"]
    assert store.deliveries.get("a:new", "slack").status == UNDELIVERED
