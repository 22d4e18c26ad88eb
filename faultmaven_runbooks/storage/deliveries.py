"""Notification deliveries, one record per (event key, channel): claimed before the first try,
then counted per try and closed as delivered, dead (a dead letter) or undelivered (a shutdown
came first; claimable again). The claim is one conditional statement, so two callers, threads or
replicas handing over the same event send it once. The delivery log of alerts/notify.py.

The model lives here rather than in schema.py so this feature's table stays in one module; the
migration (0002) creates it and test_migrations checks the two agree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint, select, update
from sqlalchemy.orm import Mapped, mapped_column

from .base import Repository, insert_ignoring_duplicates, where_given
from .paging import Page
from .schema import Base, Serial

PENDING, DELIVERED, DEAD, UNDELIVERED = "pending", "delivered", "dead", "undelivered"


class NotificationDelivery(Base):
    __tablename__ = "notification_deliveries"
    seq: Mapped[int] = mapped_column(Serial, primary_key=True, autoincrement=True)
    event_key: Mapped[str]
    channel: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))  # pending | delivered | dead | undelivered
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)  # redacted by the notifier before it gets here
    reason: Mapped[str | None] = mapped_column(Text)
    event: Mapped[dict]  # the AlertEvent as handed over (no secrets), to resend or inspect
    created: Mapped[dt.datetime]
    updated: Mapped[dt.datetime]
    delivered_at: Mapped[dt.datetime | None]
    __table_args__ = (UniqueConstraint("event_key", "channel"),
                      Index("ix_notification_deliveries_status_updated", "status", "updated", "seq"),
                      Index("ix_notification_deliveries_updated", "updated", "seq"))


@dataclass(frozen=True)
class DeliveryRecord:
    event_key: str
    channel: str
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    reason: str | None
    event: dict
    created: dt.datetime
    updated: dt.datetime
    delivered_at: dt.datetime | None


def _record(row: Any) -> DeliveryRecord:
    return DeliveryRecord(row.event_key, row.channel, row.status, row.attempts, row.last_status_code, row.last_error,
                          row.reason, row.event, row.created, row.updated, row.delivered_at)


def _one(event_key: str, channel: str):
    return (NotificationDelivery.event_key == event_key, NotificationDelivery.channel == channel)


class DeliveryRepo(Repository):
    def claim(self, event_key: str, channel: str, event: dict[str, Any]) -> bool:
        now = self._now()
        values = {"event_key": event_key, "channel": channel, "status": PENDING, "attempts": 0, "event": event,
                  "created": now, "updated": now}
        with self._write() as conn:
            if insert_ignoring_duplicates(conn, NotificationDelivery, values, ["event_key", "channel"]):
                return True
            # A delivery that a shutdown cut short is taken up again, by one caller only.
            retake = (update(NotificationDelivery).where(*_one(event_key, channel),
                                                         NotificationDelivery.status == UNDELIVERED)
                      .values(status=PENDING, reason=None, updated=now))
            return conn.execute(retake).rowcount == 1

    def record_attempt(self, event_key: str, channel: str, *, status_code: int | None, error: str | None) -> None:
        query = (update(NotificationDelivery).where(*_one(event_key, channel))
                 .values(attempts=NotificationDelivery.attempts + 1, last_status_code=status_code, last_error=error,
                         updated=self._now()))
        with self._write() as conn:
            conn.execute(query)

    def delivered(self, event_key: str, channel: str) -> None:
        now = self._now()
        self._finish(event_key, channel, status=DELIVERED, reason=None, updated=now, delivered_at=now)

    def dead_letter(self, event_key: str, channel: str, reason: str) -> None:
        self._finish(event_key, channel, status=DEAD, reason=reason, updated=self._now())

    def undelivered(self, event_key: str, channel: str, reason: str) -> None:
        self._finish(event_key, channel, status=UNDELIVERED, reason=reason, updated=self._now())

    def _finish(self, event_key: str, channel: str, **values: Any) -> None:
        # Only a pending delivery is closed: a late write never reopens or overturns a finished one.
        query = (update(NotificationDelivery)
                 .where(*_one(event_key, channel), NotificationDelivery.status == PENDING).values(**values))
        with self._write() as conn:
            conn.execute(query)

    def unfinished(self, limit: int) -> list[dict[str, Any]]:
        query = (select(NotificationDelivery.event_key, NotificationDelivery.event)
                 .where(NotificationDelivery.status == UNDELIVERED)
                 .order_by(NotificationDelivery.updated, NotificationDelivery.seq).limit(limit))
        with self._read() as conn:
            rows = conn.execute(query).all()
        events: dict[str, dict[str, Any]] = {}
        for row in rows:  # one event may be undelivered on several channels
            events.setdefault(row.event_key, row.event)
        return list(events.values())

    def get(self, event_key: str, channel: str) -> DeliveryRecord | None:
        with self._read() as conn:
            row = conn.execute(select(NotificationDelivery).where(*_one(event_key, channel))).first()
        return _record(row) if row else None

    def page(self, limit: int = 20, cursor: str | None = None, *, status: str | None = None) -> Page[DeliveryRecord]:
        """Most recently changed first; status=DEAD lists the dead letters."""
        query = where_given(select(NotificationDelivery), (NotificationDelivery.status, status))
        return self._page(query, NotificationDelivery.updated, NotificationDelivery.seq, limit, cursor, _record)
