"""RunbookService: every use case, once. The MCP server, the HTTP API and the CLI all call it.

It builds the features and hands each only the parts it needs (the library and its writer, the
state store, an embed function, the clock, a reindex callback); none of them holds the service.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel

from .alerts.events import AlertEvent
from .alerts.notify import Notifier
from .alerts.triage import Triage
from .alerts.views import detail_of, summary_of
from .api.alerts import (
    AlertList,
    AlertmanagerPayload,
    AlertmanagerTriage,
    GetTriageRequest,
    ListAlertsRequest,
    N8nIncident,
    N8nTriage,
    TriageDetail,
)
from .api.base import PageRequest
from .api.executions import ExecuteRequest, ListExecutionsRequest, PlanRequest
from .api.learning import AnalyticsRequest, AnalyticsResponse, LearnRequest, PatternsResponse
from .api.ops import Backup, BackupList, BackupRequest, StorageUsage
from .api.runbooks import (
    CaseRunbookRequest,
    CreateRunbookRequest,
    DiffRequest,
    DiffResponse,
    HistoryRequest,
    HistoryResponse,
    UpdateRunbookRequest,
)
from .api.search import MAX_QUERY_CHARS, GetRunbookRequest, SearchRequest, SuggestRequest, plain
from .clock import Clock, utc_now
from .errors import InvalidInput, NotFound, RunbookError, Unavailable
from .executor.models import ExecuteParameters
from .library.store import RunbookLibrary
from .models import (
    RUNBOOK_TYPES,
    SEVERITIES,
    IndexState,
    RunbookInfo,
    RunbookPage,
    SearchHit,
    SearchResponse,
    SuggestedAction,
    Suggestion,
    SuggestResponse,
)
from .ops.usage import measure_storage
from .search.embedder import Embedder, make_embedder
from .search.messages import search_message
from .search.query import QueryText
from .search.suggest import alert_context, alert_query, case_query
from .settings import Settings

if TYPE_CHECKING:
    from .executor.models import ExecutionList, ExecutionResult, PlanPreview
    from .executor.runner import Progress as StepProgress
    from .learning.case_runbooks import CaseRunbookResult
    from .learning.service import LearnResult
    from .library.authoring import WriteResult
    from .search.hybrid import HybridSearcher
    from .search.index import Progress, SearchIndex, SyncReport

log = logging.getLogger(__name__)

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
        self._background: list[threading.Thread] = []  # warm-up and opening the state (indexing: _indexer)
        self._index_error: Exception | None = None
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
        tunables = settings.learning  # thresholds, staleness, backup retention
        self.analytics = Analytics(self.store, self.library, clock, tunables)
        self.learning = LearningService(self.store, self.writer, self.library, self.embed, clock, tunables)
        self.cases = CaseRunbooks(self.library, self.writer, lambda text, limit: self.search(text, limit=limit),
                                  self.embed, self.learning.learn, clock, tunables)
        self.authoring = AuthoringService(self.library, self.writer, self.store, clock, self.cases.create)
        self.backups = Backups(settings.library_dir, settings.data_dir, self.store, reindex, tunables)
        self.executions = self.make_executions()
        # Notifications out: the delivery log is looked up at each write, so building the
        # notifier opens nothing; it starts with the state (open_state) or at the first alert.
        self._notify = Notifier(settings.notify, _Deliveries(self.store), clock=clock)
        self._notify_lock = threading.Lock()
        self._notify_started = self._closing = False

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
                self.notifier()  # also sends what a previous shutdown left undelivered
            except Exception as exc:  # StoreUnavailable mostly: said once here, and again per call
                log.warning("state database not opened at start (%s); the first call that needs it retries", exc)

        thread = threading.Thread(target=run, name="open-state", daemon=True)
        thread.start()
        self._background.append(thread)
        return thread

    def close(self) -> None:
        """Save what is buffered (retrieval counts), send what notifications the drain time allows,
        and let go of the state store and the cluster."""
        with self._notify_lock:
            self._closing = True
            started = self._notify_started
        if started:
            self._notify.close()
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
        failure = self._index_error
        if failure is not None and not mirror.docs:
            raise Unavailable(f"indexing the library failed ({type(failure).__name__}: {failure}); "
                              "check the data dir or Chroma server and retry") from failure

    def warm_up(self) -> threading.Thread:
        """Index and load the model in the background from start, so the first search is fast."""

        def run() -> None:
            started = time.monotonic()
            try:
                self._index_in_background()
                self.embed(["warm up"])
                self.index.mirror()
                if self._searcher is not None:
                    self._searcher.keyword(self.index.mirror())
                log.info("warm-up done in %.1f s%s", time.monotonic() - started,
                         "; indexing goes on in the background" if self._indexer and self._indexer.is_alive() else "")
            except Exception:  # a broken index must not kill the server; searches say why (Unavailable)
                log.exception("background warm-up failed")

        thread = threading.Thread(target=run, name="warm-up", daemon=True)
        thread.start()
        self._background.append(thread)
        return thread

    def busy(self) -> bool:
        """Whether work started in the background (warm-up, indexing, opening the state) still runs."""
        threads = [*self._background, self._indexer]
        return any(t is not None and t.is_alive() for t in threads)

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return np.asarray(self.embedder.embed(list(texts))).tolist()

    # -- search ----------------------------------------------------------------------------
    def search(self, request: SearchRequest | str | None = None, /, **fields: Any) -> SearchResponse:
        """`search(SearchRequest(...))`, or `search("query", limit=3)` for scripts and tests."""
        request = SearchRequest.of(_fields(request, "query", fields))
        return self._search(QueryText.parse(request.query), request.type, request.severity, request.tags,
                            request.limit, request.status)

    def _search(
        self, query: QueryText, type: str | None, severity: str | None, tags: list[str] | None, limit: int,
        status: str | None,
    ) -> SearchResponse:
        started = time.perf_counter()
        where = _where(type, severity)
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

    def suggest_similar(self, request: SuggestRequest | None = None, /, **fields: Any) -> SuggestResponse:
        request = SuggestRequest.of(request or fields)
        context: list[str] = []
        if request.problem:
            query = request.problem
        elif request.alert:
            alert = plain(request.alert)
            query, context = alert_query(alert), alert_context(alert)
        else:
            query = case_query(plain(request.case))
        if not query.strip():
            raise InvalidInput("the alert or case carries no text to search with; include a name, summary or "
                               "description")
        text = query[:MAX_QUERY_CHARS].strip()
        found = self._search(QueryText.parse(text, context), None, None, None, request.limit, None)
        suggestions = [
            Suggestion(
                runbook=hit,
                suggested_action=SuggestedAction(label="View similar runbook", payload=f"Show me runbook: {hit.title}"),
            )
            for hit in found.results
        ]
        return SuggestResponse(query=text, suggestions=suggestions, message=found.message)

    # -- reading runbooks ------------------------------------------------------------------
    def get_runbook(self, request: GetRunbookRequest | str | None = None, /, **fields: Any) -> RunbookPage:
        """`get_runbook(GetRunbookRequest(...))`, or `get_runbook("pod-crashloop", section=...)`."""
        request = GetRunbookRequest.of(_fields(request, "runbook_id", fields))
        runbook_id, section, page = request.runbook_id, request.section, request.page
        if not runbook_id.strip():
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

    # -- writing runbooks -------------------------------------------------------------------
    def create_runbook(self, request: CreateRunbookRequest) -> WriteResult:
        r = request
        return self.authoring.create_runbook(r.title, r.content, type=r.type, severity=r.severity, tags=r.tags,
                                             metadata=r.front_matter(), runbook_id=r.runbook_id, folder=r.folder,
                                             author=r.author)

    def update_runbook(self, request: UpdateRunbookRequest) -> WriteResult:
        r = request
        return self.authoring.update_runbook(r.runbook_id, title=r.title, content=r.content, type=r.type,
                                             severity=r.severity, tags=r.tags, metadata=r.front_matter(),
                                             expected_version=r.expected_version, note=r.note, author=r.author)

    def runbook_history(self, request: HistoryRequest) -> HistoryResponse:
        return HistoryResponse(**self.authoring.history(request.runbook_id, request.cursor, request.limit))

    def runbook_diff(self, request: DiffRequest) -> DiffResponse:
        return DiffResponse(**self.authoring.diff(request.runbook_id, request.from_version, request.to_version))

    def runbook_from_case(self, request: CaseRunbookRequest) -> CaseRunbookResult:
        return self.authoring.create_from_case(plain(request.case), force=request.force)

    # -- executions ------------------------------------------------------------------------
    def plan(self, request: PlanRequest) -> PlanPreview:
        return self.executions.plan(request.runbook_id, request.context, request.parameters())

    def execute(self, request: ExecuteRequest, progress: StepProgress | None = None) -> ExecutionResult:
        return self.executions.execute(request.runbook_id, request.context, request.parameters,
                                       requester=request.requester, progress=progress)

    def get_execution(self, execution_id: str) -> ExecutionResult:
        return self.executions.get(execution_id)

    def list_executions(self, request: ListExecutionsRequest) -> ExecutionList:
        return self.executions.list_executions(request.limit, request.runbook_id, request.status, request.cursor)

    def decide(self, execution_id: str, approver: str, decision: str, reason: str | None, via: str) -> ExecutionResult:
        """A person's approve or reject; `approver` is who their credential says they are."""
        return self.executions.approve(execution_id, approver, decision, reason, via)

    # -- learning and operations -----------------------------------------------------------
    def learn(self, request: LearnRequest) -> LearnResult:
        return self.learning.learn(plain(request.incident_data), plain(request.context))

    def patterns(self, request: PageRequest) -> PatternsResponse:
        return PatternsResponse(**self.learning.get_patterns(request.cursor, request.limit))

    def runbook_analytics(self, request: AnalyticsRequest) -> AnalyticsResponse:
        return AnalyticsResponse(**self.analytics.report(request.runbook_id, cursor=request.cursor,
                                                         limit=request.limit, stale_only=request.stale_only))

    def backup(self, request: BackupRequest) -> Backup:
        return Backup(**self.backups.backup(request.kind))

    def list_backups(self) -> BackupList:
        found = [Backup(**b) for b in self.backups.list()]
        return BackupList(backups=found, count=len(found))

    def storage_usage(self) -> StorageUsage:
        return measure_storage(self.settings.library_dir, self.settings.data_dir, self.backups.root)

    # -- the console (adapters/ui) ----------------------------------------------------------
    def identify_approver(self, token: str | None) -> str | None:
        """The person an approver credential belongs to, or None (what console sign-in checks)."""
        return self.executions.approvers.identify(token)

    def approver_names(self) -> list[str]:
        """Names of the people holding approver credentials now."""
        return [entry["name"] for entry in self.executions.approvers.names()]

    def list_runbooks(self, status: str | None = None) -> list[RunbookInfo]:
        """Every runbook of the library (or those with this status, e.g. draft), by id."""
        wanted = status.lower() if status else None
        found = [RunbookInfo.model_validate(rb.model_dump(include=set(RunbookInfo.model_fields)))
                 for _, rb in self.library.scan().values() if wanted is None or (rb.status or "").lower() == wanted]
        return sorted(found, key=lambda r: r.id)

    def runbook_source(self, runbook_id: str) -> str:
        """A runbook's whole markdown file, front matter included."""
        rb = self.library.find(runbook_id)
        relpath = self.library.path_of(rb.id) or rb.path
        return self.library.resolve(relpath).read_text("utf-8", errors="replace")

    def closest_runbook(self, runbook_id: str) -> SearchHit | None:
        """The reviewed runbook (not a draft, not this one) search ranks first for this runbook's
        title and summary, if any is a confident match: what a draft is compared with."""
        rb = self.library.find(runbook_id)
        query = f"{rb.title}. {rb.summary}"[:MAX_QUERY_CHARS]
        for hit in self.search(query, limit=10).results:
            if hit.id != rb.id and (self.library.get(hit.id).status or "").lower() != "draft":
                return hit
        return None

    # -- alerts ----------------------------------------------------------------------------
    def notifier(self) -> Notifier | None:
        """The notification worker, started once (at open_state, or by the first alert); None
        when no channel is configured or the service is closing."""
        if not self._notify.enabled:
            return None
        with self._notify_lock:  # decided with close(): a worker started after it would never be drained
            if self._closing:
                return None
            if not self._notify_started:
                self._notify_started = True
                self._notify.start()
        return self._notify

    def _submit(self, event: AlertEvent) -> bool:
        notifier = self.notifier()
        return notifier.submit(event) if notifier is not None else False

    def _triage(self, record: bool = True) -> Triage:
        def dry_run(runbook_id: str, context: dict[str, Any], requester: str) -> dict[str, Any]:
            params = ExecuteParameters(dry_run=True, auto_execute=False)
            result = self.execute(ExecuteRequest(runbook_id=runbook_id, context=context, parameters=params,
                                                 requester=requester))
            return result.model_dump(mode="json", exclude={"owner", "version"})

        return Triage(self.settings.alerts, self.suggest_similar, dry_run,
                      self.store.triage if record else None, self._submit if record else None)

    def triage_alertmanager(self, payload: AlertmanagerPayload, record: bool = True) -> AlertmanagerTriage:
        """Suggestions per alert; `record` keeps triage records and tells people (not on a read-only server)."""
        return self._triage(record).alertmanager(payload)

    def triage_n8n(self, incident: N8nIncident, record: bool = True) -> N8nTriage:
        return self._triage(record).n8n(incident)

    def list_alerts(self, request: ListAlertsRequest) -> AlertList:
        found = self.store.triage.page(request.limit, request.cursor, status=request.status)
        return AlertList(alerts=[summary_of(r) for r in found.items], next_cursor=found.next_cursor)

    def get_triage(self, request: GetTriageRequest) -> TriageDetail:
        record = self.store.triage.get(request.fingerprint)
        if record is None:
            raise NotFound(f"no alert with fingerprint {request.fingerprint!r}; use list_alerts (GET /alerts) for "
                           "the fingerprints this server has seen")
        return detail_of(record)

    def health(self) -> dict:
        status = {"status": "ok", "library": str(self.library.root),
                  "uptime_seconds": round(time.time() - self.started, 1)}
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
        chroma = self.settings.chroma_host
        status["chroma"] = f"{chroma}:{self.settings.chroma_port}" if chroma else "embedded"
        status["database"] = self.store.describe()  # where state lives (no password); not a ping
        return status


class _Deliveries:
    """The state store's delivery log, looked up at each call (the store opens on first use)."""

    def __init__(self, store: Any):
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store.deliveries, name)


def _fields(request: Any, first: str, fields: dict[str, Any]) -> Any:
    """A request model as given, or the keyword form's fields (the first one may be positional)."""
    if isinstance(request, BaseModel):
        return request
    return {first: request, **fields} if request is not None else fields


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
