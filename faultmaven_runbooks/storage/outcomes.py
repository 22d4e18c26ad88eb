"""Resolution statistics and per-runbook outcomes from `learn`: counters only, each change one
atomic upsert. Deltas may be negative, so a re-sent incident can take back what it added."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import select

from .base import Repository, upsert_add
from .schema import ResolutionSideEffect, ResolutionStat, RunbookOutcome

RESOLUTION_FIELDS = ("uses", "successes", "failures", "seconds_total", "timed")
OUTCOME_FIELDS = ("uses", "resolved", "failed", "seconds_total", "timed")


def _fields(row, names: Iterable[str]) -> dict:
    return {name: getattr(row, name) for name in names}


class OutcomeRepo(Repository):
    def add_resolution(self, name: str, *, uses: int = 0, successes: int = 0, failures: int = 0,
                       seconds_total: float = 0.0, timed: int = 0,
                       side_effects: Mapping[str, int] | None = None) -> None:
        deltas = dict(uses=uses, successes=successes, failures=failures, seconds_total=seconds_total, timed=timed)
        with self._write() as conn:
            upsert_add(conn, ResolutionStat, {"name": name}, deltas)
            for effect, count in (side_effects or {}).items():
                upsert_add(conn, ResolutionSideEffect, {"resolution": name, "effect": effect}, {"count": count})

    def resolutions(self, names: Iterable[str] | None = None) -> dict[str, dict]:
        """name -> {uses, successes, failures, seconds_total, timed, side_effects: {effect: n}}."""
        stats = select(ResolutionStat)
        effects = select(ResolutionSideEffect.resolution, ResolutionSideEffect.effect, ResolutionSideEffect.count)
        if names is not None:
            names = list(names)
            stats = stats.where(ResolutionStat.name.in_(names))
            effects = effects.where(ResolutionSideEffect.resolution.in_(names))
        with self._read() as conn:
            out = {r.name: {**_fields(r, RESOLUTION_FIELDS), "side_effects": {}} for r in conn.execute(stats)}
            # Columns unpacked by position: a row's `.count` is tuple.count to the type checker.
            for resolution, effect, count in conn.execute(effects):
                if count:
                    out[resolution]["side_effects"][effect] = count
        return out

    def add_runbook(self, runbook_id: str, *, uses: int = 0, resolved: int = 0, failed: int = 0,
                    seconds_total: float = 0.0, timed: int = 0) -> None:
        deltas = dict(uses=uses, resolved=resolved, failed=failed, seconds_total=seconds_total, timed=timed)
        with self._write() as conn:
            upsert_add(conn, RunbookOutcome, {"runbook_id": runbook_id}, deltas)

    def runbook(self, runbook_id: str) -> dict | None:
        """{uses, resolved, failed, seconds_total, timed} of incidents resolved with it, or None."""
        found = self.runbooks([runbook_id])
        return found.get(runbook_id)

    def runbooks(self, runbook_ids: Iterable[str] | None = None) -> dict[str, dict]:
        query = select(RunbookOutcome)
        if runbook_ids is not None:
            query = query.where(RunbookOutcome.runbook_id.in_(list(runbook_ids)))
        with self._read() as conn:
            return {r.runbook_id: _fields(r, OUTCOME_FIELDS) for r in conn.execute(query)}
