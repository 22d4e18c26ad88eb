"""The files the file stores of earlier releases wrote, read into the state store (see
importer.py for when and how once): one reader per file, each item imported on its own
savepoint, so an item the schema refuses is reported and the rest goes on.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import exc

from ..errors import Conflict, InvalidInput
from .base import as_time
from .patterns import INCIDENTS_TOTAL
from .usage import COUNTS, UNASSISTED

log = logging.getLogger(__name__)

PATTERNS, METRICS = "cache/patterns.json", "cache/metrics.json"
EXECUTIONS, AUDIT, VERSIONS = "executions", "audit/executions.jsonl", "versions"
APPROVERS = "approvers.json"
SOURCES = (PATTERNS, METRICS, EXECUTIONS, AUDIT, VERSIONS, APPROVERS)
MAX_PROBLEMS = 100  # listed in the summary; more are only counted


def _read_json(path: Path, problem: Callable[[str], None]):
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError) as error:
        problem(f"{path.name}: unreadable ({type(error).__name__}); kept, not imported")
        return None


class LegacyFiles:
    """Each old file read into the state store in `tx`, item by item, with a summary of what
    was imported and what was not (and why)."""

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

    @contextmanager
    def _item(self, label: str, counted: str | None = None) -> Iterator[None]:
        """Import one item (and count it under `counted`); an item the old code wrote but this
        schema refuses is reported and the rest goes on. Unavailability is not caught: the
        whole import then rolls back."""
        try:
            with self.imports.item():
                yield
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
            with self._item(f"pattern {pid!r}", "patterns"):
                self._pattern(pid, pattern, learned)
        for incident_id in sorted(set(learned) - self.learned_done):
            self._problem(f"incident {incident_id[:60]!r}: its pattern is not in the file; not imported")
        total = state.get("incidents") or 0
        with self._item("incident total"):
            self.imports.add_counter(INCIDENTS_TOTAL, int(total))
        for name, r in sorted((state.get("resolutions") or {}).items()):
            with self._item(f"resolution {name[:60]!r}", "resolutions"):
                self.tx.outcomes.add_resolution(
                    name, uses=r.get("uses", 0), successes=r.get("successes", 0), failures=r.get("failures", 0),
                    seconds_total=r.get("seconds_total", 0.0), timed=r.get("timed", 0),
                    side_effects=r.get("side_effects") or {})
        for runbook_id, r in sorted((state.get("runbooks") or {}).items()):
            with self._item(f"runbook outcome {runbook_id!r}", "runbook_outcomes"):
                self.tx.outcomes.add_runbook(
                    runbook_id, **{k: r.get(k, 0) for k in ("uses", "resolved", "failed", "seconds_total", "timed")})
        un = state.get("unassisted")  # since the learning loop counted resolutions without a runbook
        if isinstance(un, dict) and un.get("resolved"):
            self._unassisted(un.get("resolved", 0), un)

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
            with self._item(f"analytics of {runbook_id!r}", "usage_rows"):
                self.tx.usage.add(runbook_id, {k: row.get(k, 0) for k in COUNTS},
                                  last_retrieved=as_time(row.get("last_retrieved"), "last_retrieved"),
                                  last_executed=as_time(row.get("last_executed"), "last_executed"))
        un = state.get("unassisted") or {}
        if un.get("resolutions"):
            self._unassisted(un.get("resolutions", 0), un)

    def _unassisted(self, resolutions: int, un: dict) -> None:
        """Resolutions without a runbook, as either file counted them (the learning file calls
        them `resolved`, the analytics file `resolutions`)."""
        with self._item("resolutions without a runbook", "unassisted_rows"):
            self.tx.usage.add(UNASSISTED, {"resolutions": resolutions,
                                           "resolution_seconds_total": un.get("seconds_total", 0.0),
                                           "resolutions_timed": un.get("timed", 0)})

    def _executions(self, folder: Path) -> None:
        for path in sorted(folder.glob("exec-*.json")):
            record = _read_json(path, self._problem)
            if not isinstance(record, dict):
                continue
            with self._item(path.name, "executions"):
                self._execution(record)

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
                with self._item(f"{path.name} line {number}", "audit_entries"):
                    self._audit_line(line)

    def _audit_line(self, line: bytes) -> None:
        entry = json.loads(line)
        if not isinstance(entry, dict) or "time" not in entry or "event" not in entry:
            raise ValueError("not an audit entry (no time or event)")
        self.tx.audit.append_entry(entry)

    def _versions(self, root: Path) -> None:
        for folder in sorted(p for p in root.iterdir() if p.is_dir()):
            index = _read_json(folder / "index.json", self._problem)
            for entry in index if isinstance(index, list) else []:
                with self._item(f"{folder.name} version {str(entry)[:60]}", "versions"):
                    self._version(folder, entry)

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
            with self._item(f"approver {name[:64]!r}", "approvers"):
                self._approver(name, entry)

    def _approver(self, name: str, entry: dict) -> None:
        created = as_time(entry.get("created"), "approver created") or self.now
        if not self.imports.add_approver(name, str(entry["sha256"]), created):
            self._problem(f"approver {name!r} exists already; the stored credential is kept")
