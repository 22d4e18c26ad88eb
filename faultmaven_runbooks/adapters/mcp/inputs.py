"""Typed tool arguments: the shapes an agent sends, published in the tools' input schemas.

They describe and bound what arrives; the service validates again with the messages that say
what to fix (learning/validate.py, learning/cases.py). Unknown fields are kept: FaultMaven's
case model has three generations, and real alerts carry whatever labels their rules set.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from ...learning.validate import MAX_ITEMS, MAX_TEXT
from ...paging import MAX_LIMIT

Cursor = Annotated[str | None, Field(max_length=500, description="next_cursor of the previous page.")]
Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT)]
Text = Field(None, max_length=MAX_TEXT)
Texts = Field(default_factory=list, max_length=MAX_ITEMS)


class Incident(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str | None = Field(None, max_length=200, description="Sending the same id again updates, never double-counts.")
    type: str = Field(min_length=1, max_length=MAX_TEXT, description="e.g. pod_crash")
    success: bool = Field(description="Did the resolution work?")
    diagnosis: list[str] = Texts
    resolution: list[str] = Field(default_factory=list, max_length=MAX_ITEMS, description="Fixes applied.")
    symptoms: list[str] = Texts
    duration: str | float | None = Field(None, description="Time to resolve: '5m', '1h30m' or seconds.")
    runbook_used: str | None = Field(None, max_length=200, description="Runbook id followed: it is credited.")
    service: str | None = Text
    namespace: str | None = Text
    steps_taken: list[str | dict[str, str]] = Field(default_factory=list, max_length=MAX_ITEMS,
                                                     description="Text or {description, command}.")
    side_effects: list[str] | dict[str, list[str]] = Field(default_factory=list,
                                                           description="List, or resolution -> list.")


class IncidentContext(BaseModel):
    model_config = ConfigDict(extra="allow")

    namespace: str | None = Text
    pod_type: str | None = Text
    service: str | None = Text
    cluster: str | None = Text


class Alert(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str | None = Field(None, max_length=200, description="Alert name (or labels.alertname).")
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict, description="summary, description, runbook_url.")


class Case(BaseModel):
    """A FaultMaven case of any model generation; fields are read by all their known names."""

    model_config = ConfigDict(extra="allow")

    case_id: str | None = None
    title: str | None = None
    state: str | None = Field(None, description="resolved | closed | ... (generation 3; 1-2: status)")
    description: str | None = None
    problem_verification: dict[str, Any] | None = Field(
        None, description="symptom_statement, symptom_indicators, affected_services, started_at")
    root_cause_conclusion: dict[str, Any] | None = Field(None, description="root_cause, mechanism")
    solutions: list[dict[str, Any]] | None = None
    runbook_used: str | None = Field(None, description="Runbook id the case was resolved with.")


def plain(value: BaseModel | str | None) -> Any:
    """What the service takes: the dict the client sent (unknown fields included), or text."""
    if isinstance(value, BaseModel):
        return value.model_dump(exclude_none=True)
    return value
