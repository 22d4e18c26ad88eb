"""The audit log: every attempt, refused ones included, in the state store's append-only table
(storage/audit.py: the code only inserts, and database triggers refuse UPDATE and DELETE from
anyone). Nothing rewrites or truncates it, a backup restore included; `faultmaven-runbooks audit
export` writes it out as JSONL.
"""

from __future__ import annotations


class AuditLog:
    def __init__(self, store):
        self.store = store  # its `audit` repository; stamped with the store's (the injected) clock

    def record(self, event: str, **fields) -> dict:
        return self.store.audit.append(event, **fields)

    def entries(self, execution_id: str) -> list[dict]:
        """One execution's entries, oldest first."""
        return self.store.audit.entries(execution_id)
