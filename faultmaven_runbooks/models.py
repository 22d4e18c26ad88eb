"""Pydantic types shared by every layer; they double as the MCP tools' schemas."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

RunbookType = Literal["static", "dynamic", "template"]
Severity = Literal["critical", "high", "medium", "low", "info"]
RUNBOOK_TYPES: tuple[str, ...] = RunbookType.__args__
SEVERITIES: tuple[str, ...] = Severity.__args__


class Section(BaseModel):
    """A heading and the text under it, up to the next heading of any level."""

    heading: str
    path: list[str] = Field(description="Heading path from the top, e.g. ['Solution', 'Immediate Fix'].")
    level: int
    text: str


class Step(BaseModel):
    """A command found in a runbook: a line of a code block or an inline code span."""

    number: int
    command: str
    description: str = Field(description="The sentence or comment that introduces the command.")
    section: str = Field(description="Heading path of the section the command sits in, joined by ' > '.")
    placeholders: list[str] = Field(default_factory=list)


class RunbookInfo(BaseModel):
    """What a runbook says about itself: front matter, with defaults derived from the file."""

    id: str
    title: str
    type: RunbookType = "static"
    severity: Severity = "medium"
    tags: list[str] = Field(default_factory=list)
    service: str | None = None
    domain: str | None = None
    status: str | None = None
    version: int | str | None = None
    created: str | None = None
    last_updated: str | None = None
    alerts: list[str] = Field(default_factory=list)
    symptom_class: list[str] = Field(default_factory=list)
    aliases: list[str] = Field(default_factory=list, description="Other names, e.g. a first heading unlike the title.")
    summary: str = ""
    path: str = Field(description="Path relative to the library root.")


class Runbook(RunbookInfo):
    content: str
    sections: list[Section] = Field(default_factory=list)
    steps: list[Step] = Field(default_factory=list)
    metadata: dict = Field(default_factory=dict, description="Front-matter keys not modelled above.")


class SearchHit(BaseModel):
    id: str
    title: str
    type: RunbookType
    severity: Severity
    relevance_score: float = Field(description="0..1; only matches above the confidence bar (0.38) are returned.")
    summary: str
    last_updated: str | None
    path: str
    section: str = Field(description="Heading path of the best-matching section.")
    snippet: str
    why: str = Field(description="What matched: exact identifiers, keywords, meaning.")
    tags: list[str] = Field(default_factory=list)
    stats: dict | None = Field(None, description="Outcome statistics learned for this runbook, if any.")


class SearchResponse(BaseModel):
    results: list[SearchHit]
    total: int = Field(description="How many runbooks matched confidently before `limit` was applied.")
    search_time: str
    message: str | None = None


class SuggestedAction(BaseModel):
    label: str
    type: str = "question_template"
    payload: str


class Suggestion(BaseModel):
    runbook: SearchHit
    suggested_action: SuggestedAction


class SuggestResponse(BaseModel):
    query: str = Field(description="The search text built from the problem, alert or case.")
    suggestions: list[Suggestion]
    message: str | None = None


class RunbookPage(BaseModel):
    """A runbook, whole or one section, paged so long runbooks fit a model's context."""

    id: str
    title: str
    path: str
    type: RunbookType
    severity: Severity
    metadata: dict
    sections: list[str] = Field(description="Every section's heading path, for asking by section.")
    section: str | None = None
    content: str
    page: int
    pages: int
    steps: list[Step] = Field(default_factory=list)
