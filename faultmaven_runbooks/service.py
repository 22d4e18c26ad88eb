"""RunbookService: every use case, once. The MCP server, the HTTP API and the CLI all call it."""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

import numpy as np

from .clock import Clock, utc_now
from .errors import InvalidInput, NotFound, RunbookError, Unavailable
from .library.store import RunbookLibrary
from .models import (
    RUNBOOK_STATUSES, RUNBOOK_TYPES, SEVERITIES, IndexState, RunbookPage, SearchResponse, SuggestedAction,
    Suggestion, SuggestResponse,
)
from .search.embedder import Embedder, make_embedder
from .search.messages import search_message
from .search.query import QueryText
from .search.suggest import alert_context, alert_query, case_query
from .settings import Settings

if TYPE_CHECKING:
    from .search.hybrid import HybridSearcher
    from .search.index import Progress, SearchIndex, SyncReport

log = logging.getLogger(__name__)

MAX_QUERY_CHARS = 4000
PAGE_CHARS = 8000
# The first search on a fresh data dir waits this long for indexing, then answers with what is
# indexed so far (and says so): MCP clients give up on a silent call after about a minute.
FIRST_ANSWER_WAIT = 1.5


class RunbookService:
    """Holds the library, the lazily built search index and the feature services."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None, clock: Clock = utc_now):
        self.settings = settings
        self.clock = clock  # every date the features stamp or compare comes from here
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.library = RunbookLibrary(settings.library_dir)
        self.embedder = embedder or make_embedder(settings.embedding_model, settings.model_cache)
        self._index: SearchIndex | None = None
        self._searcher: HybridSearcher | None = None
        self._index_lock = threading.Lock()
        self._indexer_lock = threading.Lock()
        self._indexer: threading.Thread | None = None
        self._index_error: Exception | None = None
        self._synced = False
        self.started = time.time()
        # Feature services; none of them imports anything heavy at construction.
        from .analytics import Analytics
        from .authoring import AuthoringService
        from .backups import Backups
        from .executor.service import ExecutionService
        from .learning import LearningService

        self.executions = ExecutionService(settings, self)
        self.learning = LearningService(settings, self)
        self.authoring = AuthoringService(settings, self)
        self.analytics = Analytics(settings, self)
        self.backups = Backups(settings, self)

    # -- index lifecycle -------------------------------------------------------------------
    @property
    def index(self) -> SearchIndex:
        """The Chroma-backed index; chromadb is imported here, not at start-up."""
        if self._index is None:
            with self._index_lock:
                if self._index is None:
                    from .search.hybrid import HybridSearcher
                    from .search.index import SearchIndex

                    index = SearchIndex(self.settings, self.library, self.embedder)
                    self._searcher = HybridSearcher(index, self.embedder)
                    self._index = index
        return self._index

    def reindex(self, relpaths: list[str] | None = None, progress: Progress | None = None) -> SyncReport:
        """Index new and changed files now (all of them, or the given library paths)."""
        report = self.index.sync(relpaths, progress)
        self._synced = self._synced or relpaths is None
        return report

    def _index_in_background(self) -> threading.Thread | None:
        """Start the first full index pass in a thread, once; None when it has completed."""
        with self._indexer_lock:
            if self._synced:
                return None
            if self._indexer is None or not self._indexer.is_alive():
                self._indexer = threading.Thread(target=self._run_indexer, name="indexer", daemon=True)
                self._indexer.start()
            return self._indexer

    def _run_indexer(self) -> None:
        try:
            self._index_error = None
            self.reindex()
        except Exception as exc:  # searches report it (Unavailable); the next one tries again
            self._index_error = exc
            log.exception("indexing the library failed")

    def ready(self, wait: float | None = None) -> None:
        """Make sure the library is being indexed and the mirror is loaded. Waits up to `wait`
        seconds (None: until the first full pass is done); searches pass a short wait and
        answer from what is indexed so far."""
        try:
            deadline = None if wait is None else time.monotonic() + wait
            indexer = self._index_in_background()
            if indexer is not None:
                indexer.join(wait)
            mirror = self.index.mirror(None if deadline is None else max(0.0, deadline - time.monotonic()))
        except RunbookError:
            raise
        except Exception as exc:  # Chroma down, index unreadable: say so instead of an opaque error
            log.exception("search index unavailable")
            raise Unavailable(f"the search index is unavailable ({type(exc).__name__}: {exc}); "
                              "check the data dir or Chroma server and retry") from exc
        if self._index_error is not None and not mirror.docs:
            exc = self._index_error
            raise Unavailable(f"indexing the library failed ({type(exc).__name__}: {exc}); "
                              "check the data dir or Chroma server and retry") from exc

    def warm_up(self) -> threading.Thread:
        """Index and load the model in the background from start, so the first search is fast."""

        def run() -> None:
            try:
                self._index_in_background()
                self.embed(["warm up"])
                self.index.mirror()
                if self._searcher is not None:
                    self._searcher.keyword(self.index.mirror())
            except Exception:  # a broken index must not kill the server; searches say why (Unavailable)
                log.exception("background warm-up failed")

        thread = threading.Thread(target=run, name="warm-up", daemon=True)
        thread.start()
        return thread

    def embed(self, texts: list[str]) -> list[list[float]]:
        return np.asarray(self.embedder.embed(texts)).tolist()

    # -- search ----------------------------------------------------------------------------
    def search(
        self,
        query: str,
        type: str | None = None,
        severity: str | None = None,
        tags: list[str] | None = None,
        limit: int = 10,
        status: str | None = None,
    ) -> SearchResponse:
        return self._search(QueryText.parse(_check_query(query)), type, severity, tags, limit, status)

    def _search(
        self, query: QueryText, type: str | None, severity: str | None, tags: list[str] | None, limit: int,
        status: str | None,
    ) -> SearchResponse:
        started = time.perf_counter()
        where = _where(type, severity)
        if not 1 <= limit <= 100:
            raise InvalidInput(f"limit must be between 1 and 100, got {limit}")
        if status is not None and status not in RUNBOOK_STATUSES:
            raise InvalidInput(f"status must be one of {', '.join(RUNBOOK_STATUSES)}, got {status!r}")
        self.ready(wait=FIRST_ANSWER_WAIT)
        assert self._searcher is not None
        allowed = self._allowed(tags, status)
        # Outcomes feed ranking: a runbook that keeps resolving its incidents moves up a little,
        # one that keeps failing moves down (factor 0.9..1.1, 1.0 with nothing learned). ready()
        # spent the waiting budget: if the index is still loading, the ranking says so at once.
        ranking = self._searcher.rank(query, where, allowed, boost=self.learning.outcome_factor, wait=0.05)
        from .search.confidence import CONFIDENT, SHOWN

        matches = [m for m in ranking.matches if m.relevance >= SHOWN]
        confident = bool(matches) and matches[0].relevance >= CONFIDENT
        hits = [self._searcher.hit(m, ranking) for m in matches[:limit]]
        self._decorate(hits)
        state = self._index_state(ranking.mirror)
        message = search_message(ranking, hits, confident, state, filtered_out=allowed is not None and not allowed)
        return SearchResponse(
            results=hits, confident=confident, total=len(matches),
            search_time=f"{time.perf_counter() - started:.3f}s", message=message, index=state,
        )

    def _index_state(self, mirror) -> IndexState:
        status = self.index.status
        total = len(mirror.docs) - status.done + status.total if status.running and status.total else None
        return IndexState(indexing=status.running, indexed_runbooks=len(mirror.docs), total_runbooks=total)

    def _allowed(self, tags: list[str] | None, status: str | None) -> set[str] | None:
        """Runbook ids passing the tag and status filters (None: no filter), for both retrievers."""
        if not (tags or status):
            return None
        from .search.documents import effective_status

        wanted = {t.strip().lower() for t in tags or [] if isinstance(t, str) and t.strip()}
        if tags and not wanted:
            raise InvalidInput("tags must be non-empty strings, e.g. ['kubernetes', 'pods']")
        return {
            rid for rid, info in self.index.mirror(0.05).infos.items()
            if (not wanted or wanted & {t.lower() for t in info.tags})
            and (not status or effective_status(info) == status)
        }

    def _decorate(self, hits) -> None:
        """Attach learned outcome statistics and count the retrieval."""
        for hit in hits:
            hit.stats = self.learning.runbook_stats(hit.id)
        if hits:
            self.analytics.record_retrieval([h.id for h in hits])

    def suggest_similar(
        self,
        problem: str | None = None,
        alert: dict | None = None,
        case: dict | None = None,
        limit: int = 3,
    ) -> SuggestResponse:
        given = [x for x in (problem, alert, case) if x]
        if len(given) != 1:
            raise InvalidInput("give exactly one of: problem (text), alert (name, labels, annotations) or case (summary)")
        context: list[str] = []
        if problem:
            query = problem
        elif alert:
            query, context = alert_query(alert), alert_context(alert)
        else:
            query = case_query(case)
        if not query.strip():
            raise InvalidInput("the alert or case carries no text to search with; include a name, summary or description")
        if not 1 <= limit <= 10:
            raise InvalidInput(f"limit must be between 1 and 10, got {limit}")
        text = _check_query(query[:MAX_QUERY_CHARS])
        found = self._search(QueryText.parse(text, context), None, None, None, limit, None)
        suggestions = [
            Suggestion(
                runbook=hit,
                suggested_action=SuggestedAction(label="View similar runbook", payload=f"Show me runbook: {hit.title}"),
            )
            for hit in found.results
        ]
        return SuggestResponse(query=text, suggestions=suggestions, message=found.message)

    # -- reading runbooks ------------------------------------------------------------------
    def get_runbook(self, runbook_id: str, section: str | None = None, page: int = 1) -> RunbookPage:
        if not runbook_id or not runbook_id.strip():
            raise InvalidInput("runbook_id is empty; use `search` to find runbook ids")
        rb = self.library.get(runbook_id.strip())
        headings = [" > ".join(s.path) for s in rb.sections if s.path]
        section = (section or "").strip() or None
        if section:
            wanted = section.lower()
            joined = [" > ".join(s.path).lower() for s in rb.sections]
            candidates = [i for i, j in enumerate(joined) if j and j == wanted] or [
                i for i, s in enumerate(rb.sections) if s.path and s.path[-1].lower() == wanted
            ] or [i for i, j in enumerate(joined) if j and wanted in j]
            if not candidates:
                raise NotFound(f"runbook {rb.id!r} has no section {section!r}; its sections are: {', '.join(headings)}")
            first = candidates[0]
            top = rb.sections[first].path
            # The section and the subsections right after it, up to the next section outside it.
            end = first + 1
            while end < len(rb.sections) and len(rb.sections[end].path) > len(top) \
                    and rb.sections[end].path[: len(top)] == top:
                end += 1
            parts = rb.sections[first:end]
            body = "\n\n".join(f"{'#' * max(s.level, 1)} {s.heading}\n\n{s.text}" for s in parts)
            prefix = " > ".join(top)
            steps = [st for st in rb.steps if st.section == prefix or st.section.startswith(prefix + " > ")]
        else:
            body, steps = rb.content, rb.steps
        pages = max(1, -(-len(body) // PAGE_CHARS))
        if not 1 <= page <= pages:
            raise InvalidInput(f"page must be between 1 and {pages} for this runbook")
        return RunbookPage(
            id=rb.id, title=rb.title, path=rb.path, type=rb.type, severity=rb.severity,
            metadata={
                "tags": rb.tags, "service": rb.service, "domain": rb.domain, "status": rb.status,
                "version": rb.version, "last_updated": rb.last_updated, "alerts": rb.alerts,
                **rb.metadata,
            },
            sections=headings, section=section, content=body[(page - 1) * PAGE_CHARS: page * PAGE_CHARS],
            page=page, pages=pages, steps=steps if page == 1 else [],
        )

    def health(self) -> dict:
        status = {"status": "ok", "library": str(self.library.root), "uptime_seconds": round(time.time() - self.started, 1)}
        status["library_files"] = len(self.library.relpaths())
        mirror = self._index.snapshot() if self._index is not None else None
        if mirror is not None:
            status.update(indexed_runbooks=len(mirror.infos), indexed_chunks=mirror.count)
        else:
            status["index"] = "not loaded yet"
        if self._index is not None and self._index.status.running:
            progress = self._index.status
            status["indexing"] = {"done": progress.done, "total": progress.total}
        status["embedding_model"] = self.embedder.name
        status["chroma"] = f"{self.settings.chroma_host}:{self.settings.chroma_port}" if self.settings.chroma_host else "embedded"
        return status


def _check_query(query: str) -> str:
    if not isinstance(query, str) or not query.strip():
        raise InvalidInput("query is empty; describe the problem, paste the error or give an alert name")
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidInput(
            f"query is {len(query)} characters; keep it under {MAX_QUERY_CHARS} "
            "(paste the key error lines, not a whole log)"
        )
    return query.strip()


def _where(type: str | None, severity: str | None) -> dict | None:
    clauses = []
    if type:
        if type not in RUNBOOK_TYPES:
            raise InvalidInput(f"type must be one of {', '.join(RUNBOOK_TYPES)}, got {type!r}")
        clauses.append({"type": type})
    if severity:
        if severity not in SEVERITIES:
            raise InvalidInput(f"severity must be one of {', '.join(SEVERITIES)}, got {severity!r}")
        clauses.append({"severity": severity})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}
