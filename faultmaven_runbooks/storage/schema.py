"""The state schema as typed SQLAlchemy models. Migrations (migrations/versions/) create it;
tests check that the two agree.

Where a feature's record may still change shape (an execution, a pattern's statistics), the
record is kept whole as JSON and only what is queried or updated atomically has a column.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (JSON, BigInteger, DateTime, Float, ForeignKey, Index, Integer, LargeBinary, MetaData,
                        String, Text, TypeDecorator)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ID = 200  # longest id this project makes (runbook, pattern, execution, fingerprint); text from clients is Text


class UtcDateTime(TypeDecorator):
    """Aware UTC datetimes in and out. SQLite stores no offset, so values are normalised to UTC
    on the way in and given it back on the way out; comparisons and keyset paging then hold."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must carry a timezone (use the injected clock)")
        value = value.astimezone(dt.timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)


def counter():
    """A count that starts at 0 and is only ever changed by atomic increments (base.upsert_add)."""
    return mapped_column(BigInteger, default=0, server_default="0")


def seconds():
    return mapped_column(Float, default=0.0, server_default="0")


# An autoincrementing key: BIGINT on PostgreSQL, the rowid alias INTEGER on SQLite.
Serial = BigInteger().with_variant(Integer(), "sqlite")

NAMING = {"ix": "ix_%(table_name)s_%(column_0_N_name)s", "uq": "uq_%(table_name)s_%(column_0_N_name)s",
          "fk": "fk_%(table_name)s_%(column_0_name)s", "pk": "pk_%(table_name)s"}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dt.datetime: UtcDateTime, dict: JSON, list: JSON, str: String(ID)}


class Pattern(Base):
    """A learned incident pattern. `doc` is the learning feature's pattern record minus the two
    parts kept apart for the match scan (centroid, context); `revision` guards saves."""

    __tablename__ = "patterns"
    id: Mapped[str] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    centroid: Mapped[bytes] = mapped_column(LargeBinary)  # float64 array, little-endian
    context: Mapped[dict]
    members: Mapped[int] = mapped_column(default=0)
    runbook_id: Mapped[str | None] = mapped_column(index=True)
    created: Mapped[dt.datetime]
    last_seen: Mapped[dt.datetime]
    revision: Mapped[int] = mapped_column(default=1)
    doc: Mapped[dict]
    __table_args__ = (Index("ix_patterns_last_seen_id", "last_seen", "id"),)


class Incident(Base):
    """A learned incident. incident_id is unique so a re-sent incident updates its row; `data`
    holds what it added to the statistics (None: imported from the file store, contribution unknown)."""

    __tablename__ = "incidents"
    seq: Mapped[int] = mapped_column(Serial, primary_key=True, autoincrement=True)
    incident_id: Mapped[str | None] = mapped_column(Text, unique=True)  # as the client sent it
    pattern_id: Mapped[str] = mapped_column(ForeignKey("patterns.id"))
    recorded_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    revision: Mapped[int] = mapped_column(default=1)
    data: Mapped[dict | None]
    __table_args__ = (Index("ix_incidents_pattern_recorded", "pattern_id", "recorded_at", "seq"),
                      Index("ix_incidents_recorded_seq", "recorded_at", "seq"))


class ResolutionStat(Base):
    """How a named resolution fared across incidents."""

    __tablename__ = "resolution_stats"
    name: Mapped[str] = mapped_column(Text, primary_key=True)
    uses: Mapped[int] = counter()
    successes: Mapped[int] = counter()
    failures: Mapped[int] = counter()
    seconds_total: Mapped[float] = seconds()
    timed: Mapped[int] = counter()


class ResolutionSideEffect(Base):
    __tablename__ = "resolution_side_effects"
    resolution: Mapped[str] = mapped_column(Text, ForeignKey("resolution_stats.name"), primary_key=True)
    effect: Mapped[str] = mapped_column(Text, primary_key=True)
    count: Mapped[int] = counter()


class RunbookOutcome(Base):
    """Incidents resolved (or not) with a runbook, as `learn` reports them."""

    __tablename__ = "runbook_outcomes"
    runbook_id: Mapped[str] = mapped_column(primary_key=True)
    uses: Mapped[int] = counter()
    resolved: Mapped[int] = counter()
    failed: Mapped[int] = counter()
    seconds_total: Mapped[float] = seconds()
    timed: Mapped[int] = counter()


class RunbookUsage(Base):
    """Analytics counters per runbook. The row with runbook_id '' counts resolutions made
    without any runbook (runbook ids are never empty)."""

    __tablename__ = "runbook_usage"
    runbook_id: Mapped[str] = mapped_column(primary_key=True)
    retrievals: Mapped[int] = counter()
    executions: Mapped[int] = counter()
    exec_succeeded: Mapped[int] = counter()
    exec_failed: Mapped[int] = counter()
    exec_seconds_total: Mapped[float] = seconds()
    resolutions: Mapped[int] = counter()
    resolution_seconds_total: Mapped[float] = seconds()
    resolutions_timed: Mapped[int] = counter()
    last_retrieved: Mapped[dt.datetime | None]
    last_executed: Mapped[dt.datetime | None]


class Counter(Base):
    """Named totals, e.g. the number of incidents learned."""

    __tablename__ = "counters"
    name: Mapped[str] = mapped_column(primary_key=True)
    value: Mapped[int] = counter()


class Execution(Base):
    """An execution: the queried fields as columns, the executor's full record as JSON."""

    __tablename__ = "executions"
    id: Mapped[str] = mapped_column(primary_key=True)
    runbook_id: Mapped[str]
    status: Mapped[str] = mapped_column(String(40))
    requester: Mapped[str] = mapped_column(Text)
    cluster: Mapped[str | None]
    plan_hash: Mapped[str] = mapped_column(String(128), index=True)
    created: Mapped[dt.datetime]
    updated: Mapped[dt.datetime]
    record: Mapped[dict]
    __table_args__ = (Index("ix_executions_created_id", "created", "id"),
                      Index("ix_executions_runbook_created", "runbook_id", "created", "id"),
                      Index("ix_executions_status_created", "status", "created", "id"),
                      Index("ix_executions_requester_created", "requester", "created", "id"),
                      Index("ix_executions_cluster_created", "cluster", "created", "id"),
                      Index("ix_executions_updated", "updated"))


class Approver(Base):
    """A person who may approve changes. Only a hash of the token is kept."""

    __tablename__ = "approvers"
    name: Mapped[str] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    created: Mapped[dt.datetime]
    revoked: Mapped[dt.datetime | None]


class AuditEntry(Base):
    """Append-only: the migration adds triggers that refuse UPDATE and DELETE on this table."""

    __tablename__ = "audit_log"
    seq: Mapped[int] = mapped_column(Serial, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime]
    event: Mapped[str] = mapped_column(String(100))
    execution_id: Mapped[str | None] = mapped_column(index=True)
    entry: Mapped[dict]
    __table_args__ = (Index("ix_audit_log_at_seq", "at", "seq"),)


class RunbookVersion(Base):
    """A previous version of a runbook file, byte for byte."""

    __tablename__ = "runbook_versions"
    runbook_id: Mapped[str] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    bytes: Mapped[int]
    replaced_at: Mapped[dt.datetime]
    replaced_by: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    __table_args__ = (Index("ix_runbook_versions_replaced", "runbook_id", "replaced_at", "version"),)


class AlertTriage(Base):
    """One alert (by Alertmanager fingerprint) and what triage made of it."""

    __tablename__ = "alert_triage"
    fingerprint: Mapped[str] = mapped_column(primary_key=True)
    alertname: Mapped[str | None] = mapped_column(Text)
    labels: Mapped[dict]
    status: Mapped[str] = mapped_column(String(20))  # firing | resolved
    first_seen: Mapped[dt.datetime]
    last_seen: Mapped[dt.datetime]
    count: Mapped[int] = mapped_column(BigInteger, default=1)
    suggested_runbooks: Mapped[list]
    dry_run_execution_id: Mapped[str | None]
    resolved_at: Mapped[dt.datetime | None]
    # 0003: where it came from (alertmanager | n8n), when this episode began by the sender's
    # clock, what it says, the runbook it matched, and how its resolution went.
    source: Mapped[str | None] = mapped_column(String(20))
    starts_at: Mapped[dt.datetime | None]
    annotations: Mapped[dict | None]
    runbook_id: Mapped[str | None]
    runbook_used: Mapped[bool | None]
    resolution_seconds: Mapped[float | None] = mapped_column(Float)
    __table_args__ = (Index("ix_alert_triage_last_seen", "last_seen", "fingerprint"),
                      Index("ix_alert_triage_status_last_seen", "status", "last_seen", "fingerprint"),
                      Index("ix_alert_triage_resolved_at", "resolved_at", "fingerprint"))


class LegacyImport(Base):
    """One row per imported set of old state files (key: hash of their contents)."""

    __tablename__ = "legacy_imports"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    data_dir: Mapped[str] = mapped_column(Text)
    imported_at: Mapped[dt.datetime]
    summary: Mapped[dict]
