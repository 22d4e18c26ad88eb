"""Delivery against real receivers that fail, throttle, hang and redirect: retries end in exactly
one delivery or a dead letter, Retry-After is honoured, the caller is never held up, an event is
sent once however often it is handed over, and a shutdown loses nothing."""

from __future__ import annotations

import datetime as dt
import statistics
import time

from faultmaven_runbooks.alerts.delivery import Backoff, retry_after_seconds
from faultmaven_runbooks.alerts.notify import Notifier
from faultmaven_runbooks.errors import StoreUnavailable
from faultmaven_runbooks.storage.deliveries import DEAD, DELIVERED, UNDELIVERED

from .conftest import Reply, alert, fast

KEY = alert().event_key


def test_a_receiver_that_fails_three_times_then_succeeds_gets_exactly_one_delivery(receivers, notifiers, state):
    hook = receivers(Reply(500), Reply(503, body=b"busy"), Reply(408))
    notifier = notifiers(fast(notify_webhook_url=hook.url()))
    assert notifier.submit(alert())
    assert notifier.wait_idle(10)
    time.sleep(0.3)  # longer than any backoff here: a stray extra try would have arrived
    assert len(hook.requests) == 4
    assert {r.headers["X-FaultMaven-Event"] for r in hook.requests} == {KEY}  # the same event each try
    record = state.deliveries.get(KEY, "webhook")
    assert record.status == DELIVERED and record.attempts == 4 and record.last_status_code == 200


def test_a_hanging_receiver_never_delays_the_caller(receivers, notifiers):
    hook = receivers(default=Reply(hang=True))
    notifier = notifiers(fast(notify_webhook_url=hook.url(), notify_timeout_seconds=5))
    notifier.submit(alert(fingerprint="first"))
    assert len(hook.wait_for(1)) == 1  # the receiver now holds a request open and answers nothing
    took = []
    for n in range(50):
        started = time.perf_counter()
        assert notifier.submit(alert(fingerprint=f"fp-{n}"))
        took.append(time.perf_counter() - started)
    # Handing over is queueing only: microseconds typically, while each delivery waits 5 s for an
    # answer. (The worst case is bounded loosely: the worker thread shares the interpreter lock.)
    assert statistics.median(took) < 0.005 and max(took) < 1, took


def test_429_with_retry_after_is_honoured(receivers, notifiers, state):
    hook = receivers(Reply(429, headers={"Retry-After": "1"}))
    notifier = notifiers(fast(notify_webhook_url=hook.url(), notify_backoff_max_seconds=5))
    notifier.submit(alert())
    assert notifier.wait_idle(10)
    first, second = hook.requests
    # Without Retry-After the next try would come after about 0.02 s (the backoff base).
    assert second.at - first.at >= 0.95
    assert state.deliveries.get(KEY, "webhook").status == DELIVERED


def test_retry_after_as_an_http_date_counts_from_the_clock(clock):
    assert retry_after_seconds("Sat, 17 May 2031 09:30:30 GMT", clock()) == 30
    assert retry_after_seconds("Sat, 17 May 2031 09:29:00 GMT", clock()) == 0  # already past
    assert retry_after_seconds("120", clock()) == 120
    assert retry_after_seconds("soon", clock()) is None


def test_backoff_grows_with_jitter_and_stays_under_the_cap():
    backoff = Backoff(base=1.0, cap=10.0)
    assert [backoff.delay(n, None, lambda: 0.0) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]
    assert [backoff.delay(n, None, lambda: 1.0) for n in range(1, 7)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    assert backoff.delay(1, 3600.0, lambda: 0.5) == 10.0  # a receiver's Retry-After is capped too
    assert backoff.delay(2, 7.0, lambda: 0.5) == 7.0


def test_after_the_last_try_a_dead_letter_is_recorded(receivers, notifiers, state):
    hook = receivers(default=Reply(503, body=b"upstream down"))
    notifier = notifiers(fast(notify_webhook_url=hook.url(), notify_max_attempts=3))
    notifier.submit(alert())
    assert notifier.wait_idle(10)
    time.sleep(0.3)
    assert len(hook.requests) == 3
    record = state.deliveries.get(KEY, "webhook")
    assert record.status == DEAD and record.attempts == 3 and record.last_status_code == 503
    assert record.reason == "gave up after try 3: HTTP 503: upstream down"
    assert record.event["fingerprint"] == "3f9c2a1b7d4e5f60"  # kept whole, to inspect or resend
    dead = state.deliveries.page(status=DEAD).items
    assert [(d.event_key, d.channel) for d in dead] == [(KEY, "webhook")]


def test_an_answer_retrying_cannot_fix_is_a_dead_letter_at_once(receivers, notifiers, state):
    """A revoked Slack webhook answers 404 (no_service): trying five more times helps nobody."""
    slack = receivers(default=Reply(404, body=b"no_service"))
    notifier = notifiers(fast(notify_slack_webhook_url=slack.url()))
    notifier.submit(alert())
    assert notifier.wait_idle(10)
    time.sleep(0.2)
    assert len(slack.requests) == 1
    assert state.deliveries.get(KEY, "slack").reason == "refused on try 1: HTTP 404: no_service"


def test_a_redirect_is_not_followed_so_the_routing_key_stays_home(receivers, notifiers, state):
    elsewhere = receivers()
    pager = receivers(default=Reply(307, headers={"Location": elsewhere.url("/collect")}))
    notifier = notifiers(fast(notify_pagerduty_routing_key="R0UTINGKEYsecret0123", notify_pagerduty_url=pager.url()))
    notifier.submit(alert())
    assert notifier.wait_idle(10)
    time.sleep(0.2)
    assert len(pager.requests) == 1 and elsewhere.requests == []
    assert state.deliveries.get(KEY, "pagerduty").status == DEAD


def test_the_same_event_handed_over_twice_is_delivered_once(receivers, notifiers, state, clock):
    hook = receivers()
    settings = fast(notify_webhook_url=hook.url())
    notifier = notifiers(settings)
    assert notifier.submit(alert()) is True
    assert notifier.submit(alert()) is False  # still queued here
    assert notifier.wait_idle(10)
    assert notifier.submit(alert()) is True  # queued again, then skipped: the delivery log has it
    replica = notifiers(settings)  # a second replica on the same state database gets the same webhook
    replica.submit(alert())
    assert notifier.wait_idle(10) and replica.wait_idle(10)
    time.sleep(0.2)
    assert len(hook.requests) == 1
    assert state.deliveries.get(KEY, "webhook").attempts == 1


def test_shutdown_drains_the_queue_without_losing_events(receivers, notifiers, state):
    hook = receivers()
    notifier = notifiers(fast(notify_webhook_url=hook.url(), notify_concurrency=2))
    for n in range(40):
        assert notifier.submit(alert(fingerprint=f"fp-{n:02d}"))
    notifier.close(drain_seconds=20)
    assert sorted(r.json()["alert"]["fingerprint"] for r in hook.requests) == [f"fp-{n:02d}" for n in range(40)]
    assert notifier.submit(alert(fingerprint="after")) is False  # closed: refused, not silently dropped


def test_what_a_shutdown_cuts_short_is_recorded_and_sent_at_the_next_start(receivers, notifiers, state, clock):
    hanging = receivers(default=Reply(hang=True))
    notifier = notifiers(fast(notify_webhook_url=hanging.url(), notify_timeout_seconds=30))
    for n in range(3):
        notifier.submit(alert(fingerprint=f"fp-{n}"))
    hanging.wait_for(3)
    started = time.monotonic()
    notifier.close(drain_seconds=0.2)
    assert time.monotonic() - started < 5  # the drain time bounds shutdown, not the receiver
    records = [state.deliveries.get(alert(fingerprint=f"fp-{n}").event_key, "webhook") for n in range(3)]
    assert {r.status for r in records} == {UNDELIVERED}
    assert records[0].reason == "shutdown before it was sent"

    working = receivers()
    restarted = Notifier(fast(notify_webhook_url=working.url()), state.deliveries, clock=clock).start()
    try:
        assert len(working.wait_for(3)) == 3
        assert restarted.wait_idle(10)
    finally:
        restarted.close()
    assert sorted(r.json()["alert"]["fingerprint"] for r in working.requests) == ["fp-0", "fp-1", "fp-2"]
    assert {state.deliveries.get(alert(fingerprint=f"fp-{n}").event_key, "webhook").status for n in range(3)} == {DELIVERED}


def test_a_full_queue_refuses_new_events_instead_of_growing_without_bound(receivers, notifiers):
    hook = receivers(default=Reply(hang=True))
    notifier = notifiers(fast(notify_webhook_url=hook.url(), notify_queue_size=5))
    accepted = [notifier.submit(alert(fingerprint=f"fp-{n}")) for n in range(8)]
    assert accepted == [True] * 5 + [False] * 3


def test_without_channels_nothing_runs_and_nothing_is_queued(state, clock):
    notifier = Notifier(fast(), state.deliveries, clock=clock).start()
    assert notifier.enabled is False and notifier.submit(alert()) is False
    notifier.close()
    assert state.deliveries.page().items == []


def test_times_recorded_come_from_the_injected_clock(receivers, notifiers, state, clock):
    hook = receivers()
    notifier = notifiers(fast(notify_webhook_url=hook.url()))
    notifier.submit(alert())
    assert notifier.wait_idle(10)
    record = state.deliveries.get(KEY, "webhook")
    assert record.created == record.delivered_at == clock()
    assert hook.requests[0].json()["sent_at"] == clock().isoformat() == dt.datetime(
        2031, 5, 17, 9, 30, tzinfo=dt.UTC).isoformat()


class UnavailableLog:
    """A delivery log whose database is down: every call fails as the store does then."""

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise StoreUnavailable("state database unavailable: connection refused")

        fail.__name__ = name
        return fail


def test_a_store_that_is_down_does_not_stop_people_being_told(receivers, clock, caplog):
    hook = receivers()
    notifier = Notifier(fast(notify_webhook_url=hook.url()), UnavailableLog(), clock=clock).start()
    try:
        notifier.submit(alert())
        assert notifier.wait_idle(10)
    finally:
        notifier.close()
    assert len(hook.requests) == 1
    assert "delivery log unavailable (claim): state database unavailable" in caplog.text
