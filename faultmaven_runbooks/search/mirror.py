"""What search keeps in memory of the index: each runbook's info and its chunks' sections and
texts, replaced whole (never changed in place), so readers need no lock."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from ..models import RunbookInfo


@dataclass(frozen=True)
class DocRecord:
    info: RunbookInfo
    file_hash: str
    claimed_id: str
    sections: tuple[str, ...]
    texts: tuple[str, ...]


@dataclass(frozen=True)
class Mirror:
    """The collection as search sees it, at one version."""

    docs: dict[str, DocRecord]  # by library path
    version: int
    generation: str | None

    @cached_property
    def infos(self) -> dict[str, RunbookInfo]:
        return {rec.info.id: rec.info for rec in self.docs.values()}

    @cached_property
    def count(self) -> int:
        return sum(len(rec.texts) for rec in self.docs.values())

    def chunk(self, chunk_id: str) -> tuple[DocRecord, int] | None:
        path, _, n = chunk_id.rpartition("#")
        rec = self.docs.get(path)
        if rec is None or not n.isdigit() or int(n) >= len(rec.texts):
            return None
        return rec, int(n)


LOADING = Mirror({}, -1, None)  # what a search sees while another thread loads the mirror
