"""Webhook URLs, routing keys and the signing secret never show: not in any log line (ours or the
HTTP client's, at DEBUG), not in a stored error, not in a repr or a validation error, even when a
receiver quotes the request back in its error answer."""

from __future__ import annotations

import logging

import pydantic
import pytest

from faultmaven_runbooks.settings import NotifySettings
from faultmaven_runbooks.storage.deliveries import DEAD

from .conftest import HOOK_TOKEN, ROUTING_KEY, SHARED_SECRET, SLACK_TOKEN, Reply, alert, fast

SECRETS = (SLACK_TOKEN, ROUTING_KEY, SHARED_SECRET, HOOK_TOKEN, "slackSecretToken0123456789")


def _leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


def test_secrets_stay_out_of_logs_errors_and_records(receivers, notifiers, state, caplog, clock):
    # Every logger, the HTTP client's request lines and traces included. The client's loggers are
    # named too: a CLI test run earlier in this worker leaves "httpx" at WARNING.
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore"):
        caplog.set_level(logging.DEBUG, logger=name)
    quoting = receivers(default=Reply(500, echo=True))  # answers with the path, headers and body it got
    settings = fast(notify_slack_webhook_url=quoting.url(f"/services/{SLACK_TOKEN}"),
                    notify_webhook_url=quoting.url(f"/in?token={HOOK_TOKEN}"), notify_webhook_secret=SHARED_SECRET,
                    notify_pagerduty_routing_key=ROUTING_KEY, notify_pagerduty_url=quoting.url("/v2/enqueue"),
                    notify_max_attempts=2)
    notifier = notifiers(settings)
    notifier.submit(alert())
    assert notifier.wait_idle(10)

    # The secrets did travel (the receiver got them), so their absence below means something.
    assert _leaks(" ".join(r.path + r.body.decode() for r in quoting.requests)) == [
        s for s in SECRETS if s != SHARED_SECRET]
    assert "HTTP Request: POST" in caplog.text and "dead letter" in caplog.text
    assert _leaks(caplog.text) == []
    records = [state.deliveries.get(alert().event_key, c) for c in ("slack", "webhook", "pagerduty")]
    assert {r.status for r in records} == {DEAD}
    for record in records:
        assert "[redacted]" in record.reason and _leaks(record.reason + (record.last_error or "")) == []
        assert _leaks(str(record.event)) == []
    assert _leaks(repr(settings) + str(settings) + repr(notifier) + repr(notifier.channels)) == []
    rendered = [c.render(alert(), clock()) for c in notifier.channels]
    assert _leaks(repr(rendered)) == []


def test_a_bad_secret_url_is_refused_without_repeating_it():
    short = "hooks/T0SECRET"  # short enough that pydantic would print it whole
    with pytest.raises(pydantic.ValidationError) as refused:
        NotifySettings(notify_slack_webhook_url=short, notify_pagerduty_routing_key=12345678)
    assert "notify_slack_webhook_url must be an http(s) URL" in str(refused.value)
    assert "notify_pagerduty_routing_key" in str(refused.value)  # a key given as a number is refused too
    assert short not in str(refused.value) and "12345678" not in str(refused.value)


def test_settings_read_secrets_from_strings_and_show_them_masked():
    settings = NotifySettings(notify_pagerduty_routing_key=ROUTING_KEY, notify_link_base_url="https://rb.example/")
    assert settings.notify_pagerduty_routing_key.get_secret_value() == ROUTING_KEY
    assert settings.notify_link_base_url == "https://rb.example"
    assert ROUTING_KEY not in repr(settings) and ROUTING_KEY not in settings.model_dump_json()
    with pytest.raises(pydantic.ValidationError, match="must not exceed"):
        NotifySettings(notify_backoff_seconds=10, notify_backoff_max_seconds=5)
