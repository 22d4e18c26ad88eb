"""The shape of a notification on each channel: Slack Block Kit, the generic JSON webhook
(notification.schema.json, version 1) and PagerDuty Events API v2.

A channel turns an AlertEvent into the bytes and headers of one HTTP POST; sending, retrying and
recording are delivery's job (notify.py). Channels hold their secret (URL or key) out of repr.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..settings import NotifySettings
from .events import AlertEvent, cut

CLIENT = "faultmaven-runbooks"
SCHEMA_FILE = Path(__file__).with_name("notification.schema.json")  # the generic webhook's contract
SCHEMA_ID = "faultmaven-runbooks/alert-notification"
SCHEMA_VERSION = 1
# Labels worth a field in a chat message, most telling first; the rest stay in the JSON payloads.
KEY_LABELS = ("namespace", "pod", "container", "deployment", "statefulset", "daemonset", "job", "service",
              "instance", "node", "cluster")
JSON = {"Content-Type": "application/json"}


def _dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True)
class Outgoing:
    """One HTTP POST. The URL (Slack, webhook) or the body (PagerDuty's routing key) carries a
    secret, so both stay out of repr."""

    url: str = field(repr=False)
    body: bytes = field(repr=False)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Links:
    """Links into this server's REST API; none at all without a configured public base URL."""

    base: str | None

    def runbook(self, runbook_id: str) -> str | None:
        return f"{self.base}/runbooks/{quote(runbook_id, safe='')}" if self.base else None

    def execution(self, execution_id: str) -> str | None:
        return f"{self.base}/runbooks/executions/{quote(execution_id, safe='')}" if self.base else None


class Channel:
    name: str = ""

    def __init__(self, url: str, links: Links):
        self._url = url
        self.links = links

    def render(self, event: AlertEvent, now: dt.datetime) -> Outgoing:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


def _mrkdwn(text: str) -> str:
    """Slack mrkdwn escaping. Alert text comes from whoever can write a Prometheus rule or push to
    Alertmanager: unescaped, `<!channel>` would ping a whole channel and `<https://evil|Runbook>`
    would dress a phishing link as ours."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _code(text: str) -> str:
    return "`" + _mrkdwn(text).replace("`", "'") + "`"


class SlackChannel(Channel):
    """Slack incoming webhook: a Block Kit message (header, alert, runbook, approval, context).
    Incoming webhooks cannot edit a message, so a resolve is a second message."""

    name = "slack"

    def render(self, event: AlertEvent, now: dt.datetime) -> Outgoing:
        resolved = event.transition == "resolved"
        icon = ":white_check_mark:" if resolved else ":rotating_light:"
        title = f"{'Resolved' if resolved else 'Firing'}: {event.alertname}"
        fields = [f"*Severity*\n{_mrkdwn(event.severity or 'unknown')}", f"*Status*\n{event.status}"]
        labels = [(name, event.labels[name]) for name in KEY_LABELS if event.labels.get(name)]
        fields += [f"*{name}*\n{_mrkdwn(cut(value, 300))}" for name, value in labels]
        about = event.summary or event.description or event.alertname
        blocks: list[dict[str, Any]] = [
            {"type": "header", "text": {"type": "plain_text", "text": cut(f"{icon} {title}", 150), "emoji": True}},
            {"type": "section", "text": {"type": "mrkdwn", "text": cut(_mrkdwn(about), 3000)},
             "fields": [{"type": "mrkdwn", "text": cut(f, 2000)} for f in fields[:10]]},
            {"type": "section", "text": {"type": "mrkdwn", "text": cut(self._runbook(event), 3000)}},
        ]
        if event.approval_execution_id:
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": self._approval(event)}})
        context = f"fingerprint {_code(event.fingerprint)} · {CLIENT}"
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": cut(context, 2000)}]})
        fallback = f"{title} ({event.severity or 'unknown'})" + (f": {event.summary}" if event.summary else "")
        return Outgoing(self._url, _dumps({"text": cut(_mrkdwn(fallback), 3000), "blocks": blocks}), dict(JSON))

    def _runbook(self, event: AlertEvent) -> str:
        match = event.runbook
        if match is None:
            return "*Runbook:* no runbook matched this alert with confidence."
        url = self.links.runbook(match.id)
        name = f"<{url}|{_mrkdwn(match.title)}>" if url else f"{_mrkdwn(match.title)} ({_code(match.id)})"
        text = f"*Runbook:* {name} (score {match.score:.2f})"
        if match.section:
            text += f"\n*Section:* {_mrkdwn(match.section)}"
        if match.why:
            text += f"\n*Why:* {_mrkdwn(match.why)}"
        return text

    def _approval(self, event: AlertEvent) -> str:
        execution_id = event.approval_execution_id or ""
        url = self.links.execution(execution_id)
        where = f"<{url}|{_mrkdwn(execution_id)}>" if url else _code(execution_id)
        return f"*Dry run awaiting approval:* {where}"


class WebhookChannel(Channel):
    """The generic JSON webhook; signed with HMAC-SHA256 when a shared secret is set."""

    name = "webhook"

    def __init__(self, url: str, links: Links, secret: str | None = None):
        super().__init__(url, links)
        self._secret = secret

    def payload(self, event: AlertEvent, now: dt.datetime) -> dict[str, Any]:
        match = event.runbook
        runbook = None if match is None else {**match.model_dump(), "url": self.links.runbook(match.id)}
        approval = None
        if event.approval_execution_id:
            approval = {"execution_id": event.approval_execution_id,
                        "url": self.links.execution(event.approval_execution_id)}
        alert = {"fingerprint": event.fingerprint, "alertname": event.alertname, "status": event.status,
                 "severity": event.severity, "summary": event.summary, "description": event.description,
                 "labels": event.labels, "starts_at": _iso(event.starts_at), "ends_at": _iso(event.ends_at),
                 "generator_url": event.generator_url}
        return {"schema": SCHEMA_ID, "version": SCHEMA_VERSION, "event_key": event.event_key,
                "transition": event.transition, "sent_at": now.isoformat(), "alert": alert, "runbook": runbook,
                "approval": approval}

    def render(self, event: AlertEvent, now: dt.datetime) -> Outgoing:
        body = _dumps(self.payload(event, now))
        headers = {**JSON, "X-FaultMaven-Event": event.event_key}
        if self._secret:
            headers.update(sign(self._secret, body, now))
        return Outgoing(self._url, body, headers)


def sign(secret: str, body: bytes, now: dt.datetime) -> dict[str, str]:
    """Signature headers. The timestamp is inside the signed bytes, so a receiver that rejects old
    timestamps also rejects a captured request replayed later; the HMAC stops forged ones."""
    timestamp = str(int(now.timestamp()))
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"X-FaultMaven-Timestamp": timestamp, "X-FaultMaven-Signature": f"sha256={digest}"}


# Alertmanager severities to the four PagerDuty knows; anything else is "error", as Alertmanager's
# own PagerDuty integration does.
PD_SEVERITY = {"critical": "critical", "page": "critical", "high": "error", "error": "error", "major": "error",
               "warning": "warning", "warn": "warning", "medium": "warning", "minor": "warning", "low": "info",
               "info": "info", "none": "info"}


class PagerDutyChannel(Channel):
    """PagerDuty Events API v2: `trigger` for a new alert, `resolve` when it resolves, both with the
    fingerprint as dedup_key, so PagerDuty pairs them and folds repeats into one alert."""

    name = "pagerduty"

    def __init__(self, url: str, links: Links, routing_key: str):
        super().__init__(url, links)
        self._routing_key = routing_key

    def render(self, event: AlertEvent, now: dt.datetime) -> Outgoing:
        body: dict[str, Any] = {"routing_key": self._routing_key, "dedup_key": event.fingerprint}
        if event.transition == "resolved":
            body["event_action"] = "resolve"
            return Outgoing(self._url, _dumps(body), dict(JSON))
        labels = event.labels
        summary = f"{event.alertname}: {event.summary}" if event.summary else event.alertname
        details: dict[str, Any] = {"fingerprint": event.fingerprint, "labels": labels}
        if event.description:
            details["description"] = event.description
        if event.runbook:
            details["runbook"] = event.runbook.model_dump()
        if event.approval_execution_id:
            details["approval_execution_id"] = event.approval_execution_id
        payload: dict[str, Any] = {
            "summary": cut(summary, 1024),
            "source": labels.get("instance") or labels.get("pod") or labels.get("namespace") or CLIENT,
            "severity": PD_SEVERITY.get((event.severity or "").lower(), "error"),
            "timestamp": (event.starts_at or now).isoformat(), "class": event.alertname, "custom_details": details}
        for key, label in (("component", "container"), ("group", "namespace")):
            if labels.get(label):
                payload[key] = labels[label]
        body.update(event_action="trigger", payload=payload, client=CLIENT)
        links = self._links(event)
        if links:
            body["links"] = links
        if self.links.base:
            body["client_url"] = self.links.base
        return Outgoing(self._url, _dumps(body), dict(JSON))

    def _links(self, event: AlertEvent) -> list[dict[str, str]]:
        found = []
        if event.runbook and (url := self.links.runbook(event.runbook.id)):
            found.append({"href": url, "text": f"Runbook: {event.runbook.title}"})
        if event.approval_execution_id and (url := self.links.execution(event.approval_execution_id)):
            found.append({"href": url, "text": "Dry run awaiting approval"})
        if event.generator_url:
            found.append({"href": event.generator_url, "text": "Alert source"})
        return found


def channels_from(settings: NotifySettings) -> list[Channel]:
    """The channels the operator configured, in a fixed order."""
    links = Links(settings.notify_link_base_url)
    found: list[Channel] = []
    if settings.notify_slack_webhook_url:
        found.append(SlackChannel(settings.notify_slack_webhook_url.get_secret_value(), links))
    if settings.notify_webhook_url:
        shared = settings.notify_webhook_secret
        found.append(WebhookChannel(settings.notify_webhook_url.get_secret_value(), links,
                                    shared.get_secret_value() if shared else None))
    if settings.notify_pagerduty_routing_key:
        found.append(PagerDutyChannel(settings.notify_pagerduty_url, links,
                                      settings.notify_pagerduty_routing_key.get_secret_value()))
    return found
