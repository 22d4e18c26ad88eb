"""The learning loop: learn from an incident, learned patterns, runbook analytics."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from ..learning.validate import MAX_ITEMS, MAX_TEXT
from .base import PageRequest, Request

TEXT = Field(None, max_length=MAX_TEXT)
TEXTS: Any = Field(default_factory=list, max_length=MAX_ITEMS)


class Incident(BaseModel):
    # The specification's incident shape; the domain validates it again with messages that say
    # what to fix (learning/validate.py). Unknown fields are kept. A comment, not a docstring,
    # which would land in every tools/list.

    model_config = ConfigDict(extra="allow")

    id: str | None = Field(None, max_length=200, description="Sending the same id again updates, never double-counts.")
    type: str = Field(min_length=1, max_length=MAX_TEXT, description="e.g. pod_crash")
    success: StrictBool = Field(description="Did the resolution work?")
    diagnosis: list[str] = TEXTS
    resolution: list[str] = Field(default_factory=list, max_length=MAX_ITEMS, description="Fixes applied.")
    symptoms: list[str] = TEXTS
    duration: str | float | None = Field(None, description="Time to resolve: '5m', '1h30m' or seconds.")
    runbook_used: str | None = Field(None, max_length=200, description="Runbook id followed: it is credited.")
    service: str | None = TEXT
    namespace: str | None = TEXT
    steps_taken: list[str | dict[str, str]] = Field(default_factory=list, max_length=MAX_ITEMS,
                                                     description="Text or {description, command}.")
    side_effects: list[str] | dict[str, list[str]] = Field(default_factory=list,
                                                           description="List, or resolution -> list.")


class IncidentContext(BaseModel):
    model_config = ConfigDict(extra="allow")

    namespace: str | None = TEXT
    pod_type: str | None = TEXT
    service: str | None = TEXT
    cluster: str | None = TEXT


class LearnRequest(Request):
    incident_data: Incident
    context: IncidentContext | None = None


class AnalyticsRequest(PageRequest):
    runbook_id: str | None = Field(None, max_length=200)
    stale_only: bool = False


class PatternsResponse(BaseModel):
    incident_patterns: dict[str, dict[str, Any]]
    resolution_effectiveness: dict[str, dict[str, Any]]
    runbook_outcomes: dict[str, dict[str, Any]]
    total_incidents: int
    total_patterns: int
    next_cursor: str | None


class AnalyticsResponse(BaseModel):
    runbooks: list[dict[str, Any]]
    total: int
    next_cursor: str | None
    resolution_time: dict[str, Any]
    stale_count: int
