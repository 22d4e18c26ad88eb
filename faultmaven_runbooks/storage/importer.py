"""Import the state that the file stores of earlier releases left in a data dir, once.

Read, in the formats of both file-store releases: cache/patterns.json (learning: patterns,
statistics and, since the learning loop became idempotent, one record per incident id),
cache/metrics.json (analytics), executions/exec-*.json (with cluster identity and the
`applying` state, since approvals got credentials), audit/executions.jsonl, approvers.json
(token hashes), versions/<id>/index.json + v<N>.md. Everything goes in one transaction
together with a marker row keyed by the files' names, sizes and mtimes: a crash
half-way leaves nothing behind and the next start imports again from scratch; a crash after the
commit finds the marker and imports nothing twice. Then each file or folder is renamed to
<name>.imported (never deleted), so the next start has nothing to read.

Importing a second data dir into a shared database (replicas moving to one PostgreSQL) merges
it: counters add up, a pattern or version that clashes with one already stored is kept under
a new id or number, and the log says so.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import exc, select, update

from ..errors import Conflict, InvalidInput
from .base import Repository, as_time, insert_ignoring_duplicates, upsert_add
from .patterns import INCIDENTS_TOTAL
from .schema import Approver, Counter, Incident, LegacyImport, Pattern
from .usage import COUNTS, UNASSISTED

log = logging.getLogger(__name__)

PATTERNS, METRICS = "cache/patterns.json", "cache/metrics.json"
EXECUTIONS, AUDIT, VERSIONS = "executions", "audit/executions.jsonl", "versions"
APPROVERS = "approvers.json"
SOURCES = (PATTERNS, METRICS, EXECUTIONS, AUDIT, VERSIONS, APPROVERS)
DONE = ".imported"
MAX_PROBLEMS = 100  # listed in the summary; more are only counted


class LegacyImportRepo(Repository):
    """The importer's own writes: the marker row, and rows no feature writes this way."""

    def claim(self, key: str, data_dir: Path) -> bool:
        """Insert the marker first: a second importer of the same files (another process on
        the same data dir) waits for this transaction, then finds the marker and skips."""
        values = dict(key=key, data_dir=str(data_dir), imported_at=self._now(), summary={})
        with self._write() as conn:
            return insert_ignoring_duplicates(conn, LegacyImport, values, ["key"])

    def finish(self, key: str, summary: dict) -> None:
        with self._write() as conn:
            conn.execute(update(LegacyImport).where(LegacyImport.key == key).values(summary=summary))

    def add_incidents(self, pattern_id: str, incidents: list[tuple[str, dict | None]], at) -> int:
        """Incidents the file store named, oldest first, with what each added to the statistics
        (None when that release did not keep it: the incident is known, its contribution not)."""
        added = 0
        with self._write() as conn:
            for incident_id, data in incidents:
                values = dict(incident_id=incident_id, pattern_id=pattern_id, recorded_at=at, updated_at=at,
                              revision=1, data=data)
                added += insert_ignoring_duplicates(conn, Incident, values, ["incident_id"])
        return added

    def add_approver(self, name: str, token_hash: str, created) -> bool:
        """An approver credential as the file kept it (its date, its hash); False if the name is taken."""
        values = dict(name=name, token_hash=token_hash, created=created, revoked=None)
        with self._write() as conn:
            return insert_ignoring_duplicates(conn, Approver, values, ["name"])

    def add_counter(self, name: str, value: int) -> None:
        with self._write() as conn:
            upsert_add(conn, Counter, {"name": name}, {"value": value})

    @contextmanager
    def item(self) -> Iterator[None]:
        """A savepoint around one imported item: if the database refuses it (PostgreSQL would
        otherwise abort the whole import), only that item is undone and reported."""
        with self._write() as conn, conn.begin_nested():
            yield

    def pattern_exists(self, pattern_id: str) -> bool:
        with self._read() as conn:
            return conn.execute(select(Pattern.id).where(Pattern.id == pattern_id)).first() is not None


def _present(data_dir: Path) -> list[str]:
    out = []
    for rel in SOURCES:
        path = data_dir / rel
        if path.is_dir() and any(not p.is_dir() for p in path.rglob("*")) or path.is_file():
            out.append(rel)
    return out


def _files(data_dir: Path, rel: str) -> list[Path]:
    path = data_dir / rel
    return sorted(p for p in path.rglob("*") if not p.is_dir()) if path.is_dir() else [path]


def fingerprint(data_dir: Path, sources: list[str]) -> str:
    """Names, sizes and mtimes of the files: the same files (a copied or restored data dir
    keeps mtimes) give the same key. Reads no content, so it costs nothing on a large dir."""
    digest = hashlib.sha256()
    for rel in sources:
        for path in _files(data_dir, rel):
            st = path.stat()
            digest.update(f"{path.relative_to(data_dir).as_posix()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def import_legacy_state(store, data_dir: Path) -> dict | None:
    """Import what the old file stores left in data_dir; returns the summary, or None when
    there was nothing to import (or these files were imported before)."""
    data_dir = Path(data_dir)
    sources = _present(data_dir)
    if not sources:
        return None
    key = fingerprint(data_dir, sources)
    summary: dict | None = None
    with store.transaction() as tx:
        if tx.legacy_imports.claim(key, data_dir):
            summary = _Import(tx, data_dir, store.clock()).run(sources)
            tx.legacy_imports.finish(key, summary)
    if summary is None:
        log.info("old state files in %s were imported before; renaming what is left of them", data_dir)
    else:
        log.info("imported old state from %s into %s: %s", data_dir, store.describe(), json.dumps(summary))
    _rename(data_dir, sources)
    return summary


def _rename(data_dir: Path, sources: list[str]) -> None:
    for rel in sources:
        path = data_dir / rel
        target, n = path.with_name(path.name + DONE), 2
        while target.exists():
            target, n = path.with_name(f"{path.name}{DONE}-{n}"), n + 1
        try:
            path.rename(target)
        except OSError as exc:  # imported all the same; the marker keeps it from being imported again
            log.warning("could not rename %s to %s (%s); it stays, and is not imported again", rel, target.name, exc)
            continue
        log.info("kept %s as %s (its state is in the database now)", rel, target.name)


def _read_json(path: Path, problem: Callable[[str], None]):
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        problem(f"{path.name}: unreadable ({type(exc).__name__}); kept, not imported")
        return None


class _Import:
    def __init__(self, tx, data_dir: Path, now):
        self.tx, self.imports, self.data_dir, self.now = tx, tx.legacy_imports, data_dir, now
        self.counts: dict[str, int] = {}
        self.problems: list[str] = []
        self.learned_done: set[str] = set()  # per-incident records imported with their pattern

    def _problem(self, text: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text)
        else:
            self._count("problems_not_listed")

    def _count(self, what: str, n: int = 1) -> None:
        self.counts[what] = self.counts.get(what, 0) + n

    def _each(self, label: str, step: Callable[[], object], counted: str | None = None) -> None:
        """Import one item (and count it under `counted`); an item the old code wrote but this
        schema refuses is reported and the rest goes on. Unavailability is not caught: the
        whole import then rolls back."""
        try:
            with self.imports.item():
                step()
        except (InvalidInput, ValueError, TypeError, KeyError, exc.IntegrityError, exc.DataError) as error:
            reason = (str(error).splitlines() or [type(error).__name__])[0][:160]
            self._problem(f"{label}: {reason}; kept in the renamed files, not imported")
            return
        if counted:
            self._count(counted)

    def run(self, sources: list[str]) -> dict:
        steps = {PATTERNS: self._patterns, METRICS: self._metrics, EXECUTIONS: self._executions,
                 AUDIT: self._audit, VERSIONS: self._versions, APPROVERS: self._approvers}
        for rel in sources:
            steps[rel](self.data_dir / rel)
            log.info("imported %s", rel)
        return {"counts": self.counts, "problems": self.problems}

    def _patterns(self, path: Path) -> None:
        state = _read_json(path, self._problem)
        if not isinstance(state, dict):
            return
        learned = state.get("learned") or {}
        for pid, pattern in sorted((state.get("patterns") or {}).items()):
            self._each(f"pattern {pid!r}", lambda: self._pattern(pid, pattern, learned), "patterns")
        for incident_id in sorted(set(learned) - self.learned_done):
            self._problem(f"incident {incident_id[:60]!r}: its pattern is not in the file; not imported")
        total = state.get("incidents") or 0
        self._each("incident total", lambda: self.imports.add_counter(INCIDENTS_TOTAL, int(total)))
        for name, r in sorted((state.get("resolutions") or {}).items()):
            self._each(f"resolution {name[:60]!r}", lambda: self.tx.outcomes.add_resolution(
                name, uses=r.get("uses", 0), successes=r.get("successes", 0), failures=r.get("failures", 0),
                seconds_total=r.get("seconds_total", 0.0), timed=r.get("timed", 0),
                side_effects=r.get("side_effects") or {}), "resolutions")
        for runbook_id, r in sorted((state.get("runbooks") or {}).items()):
            self._each(f"runbook outcome {runbook_id!r}", lambda: self.tx.outcomes.add_runbook(
                runbook_id, **{k: r.get(k, 0) for k in ("uses", "resolved", "failed", "seconds_total", "timed")}),
                "runbook_outcomes")
        un = state.get("unassisted")  # since the learning loop counted resolutions without a runbook
        if isinstance(un, dict) and un.get("resolved"):
            self._each("resolutions without a runbook", lambda: self.tx.usage.add(UNASSISTED, {
                "resolutions": un.get("resolved", 0), "resolution_seconds_total": un.get("seconds_total", 0.0),
                "resolutions_timed": un.get("timed", 0)}), "unassisted_rows")

    def _pattern(self, pid: str, pattern: dict, learned: dict) -> None:
        new_id, n = pid, 2
        while self.imports.pattern_exists(new_id):
            new_id, n = f"{pid}-{n}", n + 1
        if new_id != pid:
            self._problem(f"pattern {pid!r} exists already; imported as {new_id!r}")
        self.tx.patterns.add({**pattern, "id": new_id})
        at = as_time(pattern.get("last_seen"), "last_seen") or self.now
        # Oldest first, each id at its latest place: the old list repeated a re-sent incident.
        listed = list(reversed(dict.fromkeys(reversed([str(i) for i in pattern.get("incidents") or []]))))
        # The per-incident records name their pattern; those older than the list's last 20 go first.
        mine = [i for i, record in sorted(learned.items()) if isinstance(record, dict) and record.get("pattern") == pid]
        ids = [i for i in mine if i not in listed] + listed
        incidents = [(i, {**learned[i], "pattern": new_id} if i in mine else None) for i in ids]
        self._count("incident_ids", self.imports.add_incidents(new_id, incidents, at))
        self._count("incident_records", sum(1 for _, data in incidents if data is not None))
        self.learned_done.update(mine)

    def _metrics(self, path: Path) -> None:
        state = _read_json(path, self._problem)
        if not isinstance(state, dict):
            return
        for runbook_id, row in sorted((state.get("runbooks") or {}).items()):
            self._each(f"analytics of {runbook_id!r}", lambda: self.tx.usage.add(
                runbook_id, {k: row.get(k, 0) for k in COUNTS},
                last_retrieved=as_time(row.get("last_retrieved"), "last_retrieved"),
                last_executed=as_time(row.get("last_executed"), "last_executed")), "usage_rows")
        un = state.get("unassisted") or {}
        if un.get("resolutions"):
            self._each("resolutions without a runbook", lambda: self.tx.usage.add(UNASSISTED, {
                "resolutions": un.get("resolutions", 0), "resolution_seconds_total": un.get("seconds_total", 0.0),
                "resolutions_timed": un.get("timed", 0)}), "unassisted_rows")

    def _executions(self, folder: Path) -> None:
        for path in sorted(folder.glob("exec-*.json")):
            record = _read_json(path, self._problem)
            if not isinstance(record, dict):
                continue
            self._each(path.name, lambda: self._execution(record), "executions")

    def _execution(self, record: dict) -> None:
        cluster = record.get("cluster")
        try:
            self.tx.executions.add(record, cluster=cluster.get("server") if isinstance(cluster, dict) else None)
        except Conflict:
            if self.tx.executions.get(record.get("execution_id")).record != record:
                raise ValueError("a different execution with this id exists") from None
            self._count("executions_already_there")

    def _audit(self, path: Path) -> None:
        with path.open("rb") as fh:
            for number, line in enumerate(fh, 1):
                # The old log could end in a torn line after a crash; its readers skipped it too.
                self._each(f"{path.name} line {number}", lambda: self._audit_line(line), "audit_entries")

    def _audit_line(self, line: bytes) -> None:
        entry = json.loads(line)
        if not isinstance(entry, dict) or "time" not in entry or "event" not in entry:
            raise ValueError("not an audit entry (no time or event)")
        self.tx.audit.append_entry(entry)

    def _versions(self, root: Path) -> None:
        for folder in sorted(p for p in root.iterdir() if p.is_dir()):
            index = _read_json(folder / "index.json", self._problem)
            for entry in index if isinstance(index, list) else []:
                self._each(f"{folder.name} version {str(entry)[:60]}", lambda: self._version(folder, entry), "versions")

    def _version(self, folder: Path, entry: dict) -> None:
        runbook_id, version = folder.name, int(entry["version"])
        try:
            content = (folder / f"v{version}.md").read_bytes()
        except OSError:
            raise ValueError(f"v{version}.md is missing") from None
        versions = self.tx.versions
        args = (entry.get("replaced_by"), entry.get("note"), entry.get("replaced_at"))
        try:
            versions.save(runbook_id, version, content, *args)
        except Conflict:
            # Another replica kept a different v<N> of the same runbook: keep this one too, as the next number.
            renumbered = versions.last_version(runbook_id) + 1
            versions.save(runbook_id, renumbered, content, args[0],
                          f"{args[1] or ''} (imported from {self.data_dir} as v{version})".strip(), args[2])
            self._problem(f"{runbook_id} v{version}: a different v{version} exists; imported as v{renumbered}")

    def _approvers(self, path: Path) -> None:
        state = _read_json(path, self._problem)
        approvers = state.get("approvers") if isinstance(state, dict) else None
        for name, entry in sorted((approvers or {}).items()):
            self._each(f"approver {name[:64]!r}", lambda: self._approver(name, entry), "approvers")

    def _approver(self, name: str, entry: dict) -> None:
        created = as_time(entry.get("created"), "approver created") or self.now
        if not self.imports.add_approver(name, str(entry["sha256"]), created):
            self._problem(f"approver {name!r} exists already; the stored credential is kept")
