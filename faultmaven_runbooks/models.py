"""Pydantic types shared by every layer; they double as the MCP tools' schemas."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, Field

RunbookType = Literal["static", "dynamic", "template"]
Severity = Literal["critical", "high", "medium", "low", "info"]
RUNBOOK_TYPES: tuple[str, ...] = get_args(RunbookType)
SEVERITIES: tuple[str, ...] = get_args(Severity)


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


RunbookStatus = Literal["verified", "draft", "deprecated"]
RUNBOOK_STATUSES: tuple[str, ...] = get_args(RunbookStatus)


class MatchSignals(BaseModel):
    """Why a runbook matched, signal by signal, each a number a client can use on its own."""

    exact_identifier: float = Field(
        description="1 when the query names this runbook (alert name, file name, title); less for a name "
        "matched in parts (KubeAPI -> KubeAPIDown); 0 for none.")
    identifiers: list[str] = Field(default_factory=list, description="Names in the query that matched.")
    keyword_coverage: float = Field(
        description="Share of the query's words (rare words weigh more) the runbook contains, 0..1.")
    keywords: list[str] = Field(default_factory=list, description="Query words the runbook contains, rarest first.")
    semantic_similarity: float = Field(
        description="Cosine similarity between the query and the runbook's closest chunk (-1..1; related "
        "texts are above about 0.5 on the default model).")
    note: str | None = Field(None, description="What else shaped the score: a draft, a helper page, a stub.")


class RunbookRef(BaseModel):
    id: str
    path: str


class SearchHit(BaseModel):
    id: str
    title: str
    type: RunbookType
    severity: Severity
    status: RunbookStatus = Field("verified",
                                  description="verified, draft (e.g. learned from incidents) or deprecated.")
    relevance_score: float = Field(
        description="Calibrated confidence, 0..1, that this runbook addresses the query; results are sorted by it.")
    summary: str
    last_updated: str | None
    path: str
    section: str = Field(description="Heading path of the best-matching section.")
    snippet: str
    why: MatchSignals
    also_in: list[RunbookRef] = Field(
        default_factory=list,
        description="Near-duplicates of this runbook in other places (the same alert documented twice).")
    see: RunbookRef | None = Field(None, description="For a page that only points elsewhere: the runbook it points to.")
    tags: list[str] = Field(default_factory=list)
    stats: dict | None = Field(None, description="Outcome statistics learned for this runbook, if any.")


class IndexState(BaseModel):
    indexing: bool = Field(
        description="True while runbooks are still being indexed; results cover what is indexed so far.")
    indexed_runbooks: int
    total_runbooks: int | None = Field(None, description="Runbooks the running index pass covers, when known.")


class SearchResponse(BaseModel):
    results: list[SearchHit] = Field(description="Best first, by relevance_score.")
    confident: bool = Field(
        False, description="True when the best hit is a confident match (relevance_score >= 0.2); when False, "
        "the library likely has no runbook for this and the results are only the closest ones.")
    total: int = Field(description="How many runbooks matched before `limit` was applied.")
    search_time: str
    message: str | None = None
    index: IndexState | None = None


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
