"""What triage hands to the notifier: one alert's transition (new or resolved), with the runbook
it matched and the dry run awaiting approval, if any.

The event key names the notification: fingerprint, the episode's start and the transition. The
notifier delivers each key at most once per channel, so a caller may hand the same event over
again (Alertmanager re-sends a group every group_interval) without anyone being told twice. The
episode (Alertmanager's startsAt) keeps an alert that fires again after resolving from being
taken for a re-send: it gets a new startsAt, so a new key, so people are told again.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

Transition = Literal["new", "resolved"]

MAX_LABELS = 100  # an alert with thousands of labels is cut, never refused: the notification still goes out
MAX_TEXT = 4000


def cut(text: str, limit: int) -> str:
    """`text` within `limit` characters, an ellipsis marking a cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


class RunbookMatch(BaseModel):
    """The best runbook for the alert and why it matched (from a search hit)."""

    id: str = Field(max_length=200)
    title: str
    score: float = Field(ge=0, le=1)
    section: str = ""
    why: str = ""


def why_text(signals: dict[str, Any]) -> str:
    """A search hit's match signals (models.MatchSignals) as one line people read."""
    parts = []
    if signals.get("identifiers"):
        parts.append("names " + ", ".join(map(str, signals["identifiers"][:3])))
    if signals.get("keywords"):
        parts.append("keywords " + ", ".join(map(str, signals["keywords"][:5])))
    if isinstance(signals.get("semantic_similarity"), (int, float)):
        parts.append(f"similarity {signals['semantic_similarity']:.2f}")
    if signals.get("note"):
        parts.append(str(signals["note"]))
    return cut("; ".join(parts), 500)


class AlertEvent(BaseModel):
    fingerprint: str = Field(min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$",
                             description="Alertmanager's fingerprint (printable ASCII, no spaces).")
    transition: Transition
    alertname: str = Field(min_length=1)
    severity: str | None = None
    summary: str | None = None
    description: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    starts_at: dt.datetime | None = Field(None, description="When this firing began (Alertmanager's startsAt); "
                                          "part of the event key, the same on the resolve.")
    ends_at: dt.datetime | None = None
    generator_url: str | None = None
    runbook: RunbookMatch | None = None
    approval_execution_id: str | None = Field(None, max_length=200,
                                              description="A dry run of the runbook awaiting approval.")

    @field_validator("alertname", "summary", "description", "generator_url", "severity")
    @classmethod
    def _bounded_text(cls, value: str | None) -> str | None:
        return cut(value, MAX_TEXT) if value else value

    @field_validator("generator_url")
    @classmethod
    def _web_link(cls, value: str | None) -> str | None:
        # It becomes a link in PagerDuty: only http(s), never javascript: or data: from a hostile sender.
        return value if value and value.lower().startswith(("http://", "https://")) else None

    @field_validator("starts_at", "ends_at")
    @classmethod
    def _aware(cls, value: dt.datetime | None) -> dt.datetime | None:
        # Alertmanager sends RFC 3339 with an offset; a naive time is taken as UTC.
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value

    @field_validator("labels")
    @classmethod
    def _bounded_labels(cls, value: dict[str, str]) -> dict[str, str]:
        kept = sorted(value.items())[:MAX_LABELS]
        return {cut(k, 200): cut(v, 1000) for k, v in kept}

    @property
    def event_key(self) -> str:
        episode = f":{int(self.starts_at.timestamp())}" if self.starts_at else ""
        return f"{self.fingerprint}{episode}:{self.transition}"

    @property
    def status(self) -> str:
        return "resolved" if self.transition == "resolved" else "firing"
