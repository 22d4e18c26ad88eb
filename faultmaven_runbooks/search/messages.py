"""What a search response says beside its results: no runbooks, no match, no confident match,
still indexing, model still loading. Short, and it says what to do."""

from __future__ import annotations

from ..models import IndexState, SearchHit


def search_message(ranking, hits: list[SearchHit], confident: bool, state: IndexState,
                   filtered_out: bool) -> str | None:
    message = None
    if not hits:
        if ranking.loading:
            message = "The search index is still loading; search again in a few seconds."
        elif not ranking.mirror.docs and not state.indexing:
            message = "The library has no runbooks yet: add markdown files and run `faultmaven-runbooks index`."
        elif filtered_out:
            message = "No runbook matches these filters; drop or widen type, severity, tags or status."
        else:
            message = ("No runbook matches this query. Try the exact alert name or error message, fewer "
                       "filters, or create a runbook for it.")
    elif not confident:
        message = (f"No runbook is a confident match (best relevance {hits[0].relevance_score:.2f}); the "
                   "library likely lacks one for this. The results are only the closest: check before acting.")
    notes = []
    if state.indexing:
        if state.total_runbooks:
            notes.append(f"Indexing {state.indexed_runbooks} of {state.total_runbooks} runbooks; results cover "
                         "what is indexed so far.")
        else:
            notes.append(f"Indexing has started ({state.indexed_runbooks} runbooks so far); results cover what "
                         "is indexed so far.")
    if not ranking.model_ready:
        notes.append("The embedding model is still loading; these results come from keywords alone.")
    return " ".join(notes + ([message] if message else [])) or None
