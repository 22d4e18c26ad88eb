"""Where notifications go and how hard delivery tries: the operator's settings (README, Notifications).

Every channel is off until its secret is set. Webhook URLs and keys are secrets (a Slack webhook
URL alone lets anyone post to the channel; a PagerDuty routing key pages people): they are
SecretStr, so a printed or logged settings object shows '**********', never the value.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"


def _http_url(value: str, what: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{what} must be an http(s) URL with a host")
    return value


class NotifySettings(BaseModel):
    """Notifications out (alerts/notify.py): Slack, a generic JSON webhook, PagerDuty."""

    # A validation error would otherwise quote the value it refused: a mistyped webhook URL
    # would land, token and all, in the startup error and the logs that keep it.
    model_config = ConfigDict(hide_input_in_errors=True)

    notify_slack_webhook_url: SecretStr | None = Field(
        None, description="Slack incoming webhook URL (https://hooks.slack.com/services/...). Secret.")
    notify_webhook_url: SecretStr | None = Field(
        None, description="Generic JSON webhook: receives every notification in the documented schema. Secret "
        "(it may carry a token).")
    notify_webhook_secret: SecretStr | None = Field(
        None, description="Shared secret for the generic webhook's X-FaultMaven-Signature HMAC header.")
    notify_pagerduty_routing_key: SecretStr | None = Field(
        None, description="PagerDuty Events API v2 integration (routing) key. Secret.")
    notify_pagerduty_url: str = Field(
        PAGERDUTY_EVENTS_URL, description="PagerDuty Events API v2 endpoint (the EU service: "
        "https://events.eu.pagerduty.com/v2/enqueue).")
    notify_link_base_url: str | None = Field(
        None, description="Public base URL of this server (e.g. https://runbooks.example.com); notifications link "
        "to runbooks and pending approvals under it. Unset: no links rather than wrong ones.")
    notify_max_attempts: int = Field(6, ge=1, le=20, description="Tries per notification before the dead letter.")
    notify_backoff_seconds: float = Field(
        2.0, gt=0, le=60, description="First retry delay; doubles per retry, with jitter, up to the cap.")
    notify_backoff_max_seconds: float = Field(
        300.0, gt=0, le=3600, description="Longest wait between tries, also for a receiver's Retry-After.")
    notify_timeout_seconds: float = Field(10.0, gt=0, le=120, description="Longest wait for one receiver's answer.")
    notify_queue_size: int = Field(1000, ge=1, description="Notifications waiting at most; beyond, new ones are "
                                   "refused with a warning.")
    notify_concurrency: int = Field(8, ge=1, le=100, description="Notifications in flight at once.")
    notify_drain_seconds: float = Field(
        10.0, ge=0, le=300, description="On shutdown, how long queued notifications may still be sent; the rest "
        "are recorded as undelivered and sent at the next start.")

    @field_validator("notify_slack_webhook_url", "notify_webhook_url")
    @classmethod
    def _secret_url(cls, value: SecretStr | None, info) -> SecretStr | None:
        if value is not None:
            _http_url(value.get_secret_value(), info.field_name)  # the message never repeats the URL
        return value

    @field_validator("notify_pagerduty_url")
    @classmethod
    def _public_url(cls, value: str, info) -> str:
        return _http_url(value, info.field_name)

    @field_validator("notify_link_base_url")
    @classmethod
    def _base_url(cls, value: str | None, info) -> str | None:
        if not value:
            return None
        return _http_url(value, info.field_name).rstrip("/")

    @model_validator(mode="after")
    def _backoff_within_cap(self) -> NotifySettings:
        if self.notify_backoff_seconds > self.notify_backoff_max_seconds:
            raise ValueError("notify_backoff_seconds must not exceed notify_backoff_max_seconds")
        return self

    def secrets(self) -> list[str]:
        """Every configured secret value, for redaction."""
        values = [self.notify_slack_webhook_url, self.notify_webhook_url, self.notify_webhook_secret,
                  self.notify_pagerduty_routing_key]
        return [v.get_secret_value() for v in values if v is not None and v.get_secret_value()]
