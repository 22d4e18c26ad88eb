"""RunbookService: every use case, once. The MCP server, the HTTP API and the CLI all call it.

It builds the features and hands each only the parts it needs (the library and its writer, the
state store, an embed function, the clock, a reindex callback); none of them holds the service.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

import numpy as np

from .clock import Clock, utc_now
from .errors import InvalidInput, NotFound, RunbookError, Unavailable
from .library.store import RunbookLibrary
from .models import RUNBOOK_TYPES, SEVERITIES, RunbookPage, SearchResponse, SuggestedAction, Suggestion, SuggestResponse
from .search.embedder import Embedder, make_embedder
from .search.suggest import alert_query, case_query
from .settings import Settings

if TYPE_CHECKING:
    from .search.hybrid import HybridSearcher
    from .search.index import Progress, SearchIndex, SyncReport

log = logging.getLogger(__name__)

MAX_QUERY_CHARS = 4000
PAGE_CHARS = 8000


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
        self._synced = False
        self.started = time.time()
        self._build_features()

    def _build_features(self) -> None:
        """The feature services; none of them opens or imports anything heavy at construction
        (the state store opens on first use: storage/lazy.py)."""
        from .learning import LearningService
        from .learning.case_runbooks import CaseRunbooks
        from .library.authoring import AuthoringService
        from .library.writer import LibraryWriter
        from .ops.analytics import Analytics
        from .ops.backups import Backups
        from .storage.lazy import LazyStore

        settings, clock = self.settings, self.clock
        # Looks `reindex` up at each call, so whatever stands in for it on this instance is used.
        reindex = lambda relpaths=None: self.reindex(relpaths)  # noqa: E731
        self.store = LazyStore(settings, clock)
        self.writer = LibraryWriter(self.library, self.store, clock, reindex)
        self.analytics = Analytics(self.store, self.library, clock)
        self.learning = LearningService(self.store, self.writer, self.library, self.embed, clock)
        self.cases = CaseRunbooks(self.library, self.writer, lambda text, limit: self.search(text, limit=limit),
                                  self.embed, self.learning.learn, clock)
        self.authoring = AuthoringService(self.library, self.writer, self.store, clock, self.cases.create)
        self.backups = Backups(settings.library_dir, settings.data_dir, self.store, reindex)
        self.executions = self.make_executions()

    def make_executions(self, settings: Settings | None = None, **options):
        """An executor on this service's library, state store and clock; `settings` (another
        kubeconfig, say) and `options` (policy, kube_configuration) as ExecutionService takes them."""
        from .executor.service import ExecutionService

        return ExecutionService(settings or self.settings, self.store, self.library, self.clock,
                                on_finished=self.analytics.record_execution, **options)

    def open_state(self) -> threading.Thread:
        """Open the state store in the background (migrations, the one-time import of old state
        files, executor crash recovery), so a server does that at start without making an MCP
        handshake wait; a database that is down is tried again by the first call that needs it."""

        def run() -> None:
            try:
                self.store.open()
                self.executions.recover_once()
            except Exception as exc:  # StoreUnavailable mostly: said once here, and again per call
                log.warning("state database not opened at start (%s); the first call that needs it retries", exc)

        thread = threading.Thread(target=run, name="open-state", daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        """Save what is buffered (retrieval counts) and let go of the state store and the cluster."""
        try:
            self.analytics.flush()
        except Exception:  # the database is down: say so, and still let go of everything
            log.warning("retrieval counts not saved at shutdown: the state database is unavailable")
        self.executions.close()
        self.store.close()

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

    def ready(self) -> None:
        """Sync once and build the in-memory mirror; the first search calls this if needed."""
        try:
            if not self._synced:
                self.reindex()
            self.index.mirror()
        except RunbookError:
            raise
        except Exception as exc:  # Chroma down, index unreadable: say so instead of an opaque error
            log.exception("search index unavailable")
            raise Unavailable(f"the search index is unavailable ({type(exc).__name__}: {exc}); "
                              "check the data dir or Chroma server and retry") from exc

    def warm_up(self) -> threading.Thread:
        """Load the model and the index in the background so the first search is fast."""

        def run() -> None:
            try:
                self.ready()
                self.embed(["warm up"])
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
    ) -> SearchResponse:
        started = time.perf_counter()
        query = _check_query(query)
        where = _where(type, severity)
        if not 1 <= limit <= 100:
            raise InvalidInput(f"limit must be between 1 and 100, got {limit}")
        self.ready()
        assert self._searcher is not None
        allowed = self._allowed(type, severity, tags)
        # Outcomes feed ranking: a runbook that keeps resolving its incidents moves up a little,
        # one that keeps failing moves down (factor 0.9..1.1, 1.0 with nothing learned).
        matches, kw, mirror = self._searcher.rank(query, where, allowed, boost=self.learning.outcome_factor)
        from .search.hybrid import CONFIDENT

        confident = [m for m in matches if m.relevance >= CONFIDENT]
        hits = [self._searcher.hit(m, kw, mirror, query) for m in confident[:limit]]
        self._decorate(hits)
        message = None
        if not hits:
            if not mirror.infos:
                message = "The library has no runbooks yet: add markdown files and run `faultmaven-runbooks index`."
            elif allowed is not None and not allowed:
                message = "No runbook matches these filters; drop or widen type, severity or tags."
            else:
                message = (
                    "No runbook is a confident match for this query. Try the exact alert name or error "
                    "message, fewer filters, or create a runbook for it."
                )
        return SearchResponse(
            results=hits, total=len(confident),
            search_time=f"{time.perf_counter() - started:.3f}s", message=message,
        )

    def _allowed(self, type: str | None, severity: str | None, tags: list[str] | None) -> set[str] | None:
        """Runbook ids passing the filters (None: no filter), applied to both retrievers."""
        if not (type or severity or tags):
            return None
        wanted = {t.strip().lower() for t in tags or [] if isinstance(t, str) and t.strip()}
        if tags and not wanted:
            raise InvalidInput("tags must be non-empty strings, e.g. ['kubernetes', 'pods']")
        return {
            rid for rid, info in self.index.mirror().infos.items()
            if (not type or info.type == type)
            and (not severity or info.severity == severity)
            and (not wanted or wanted & {t.lower() for t in info.tags})
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
        if problem:
            query = problem
        elif alert:
            query = alert_query(alert)
        else:
            query = case_query(case)
        if not query.strip():
            raise InvalidInput("the alert or case carries no text to search with; include a name, summary or description")
        if not 1 <= limit <= 10:
            raise InvalidInput(f"limit must be between 1 and 10, got {limit}")
        found = self.search(query[:MAX_QUERY_CHARS], limit=limit)
        suggestions = [
            Suggestion(
                runbook=hit,
                suggested_action=SuggestedAction(label="View similar runbook", payload=f"Show me runbook: {hit.title}"),
            )
            for hit in found.results
        ]
        return SuggestResponse(query=query[:MAX_QUERY_CHARS], suggestions=suggestions, message=found.message)

    # -- reading runbooks ------------------------------------------------------------------
    def get_runbook(self, runbook_id: str, section: str | None = None, page: int = 1) -> RunbookPage:
        if not runbook_id or not runbook_id.strip():
            raise InvalidInput("runbook_id is empty; use `search` to find runbook ids")
        # Ids as people type them: any case, an alert name, or the alert's runbook_url.
        rb = self.library.find(runbook_id)
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
        status["embedding_model"] = self.embedder.name
        status["chroma"] = f"{self.settings.chroma_host}:{self.settings.chroma_port}" if self.settings.chroma_host else "embedded"
        status["database"] = self.store.describe()  # where state lives (no password); not a ping
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
