"""Create and update runbooks: validation, stable ids, kept versions, history and diffs.

Writes go through the library writer (writer.py): an update holds the runbook's lock on every
replica, keeps the previous bytes as a version, then replaces the file atomically, so two
concurrent updates are applied one after the other and a crash leaves the old file or the new.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from ..clock import Clock
from ..errors import InvalidInput, NotFound
from ..models import RUNBOOK_TYPES, SEVERITIES
from ..paging import DEFAULT_LIMIT, page
from .markdown import slugify, split_front_matter
from .render import Markdown, ordered
from .store import RunbookLibrary
from .versions import check_id, unified_diff
from .writer import LibraryWriter, Written, file_version

log = logging.getLogger(__name__)

DEFAULT_FOLDER = {"dynamic": "dynamic/resolutions/manual", "static": "static/custom",
                  "template": "static/templates"}
# Set through their own arguments only, so metadata cannot forge identity or history.
RESERVED = {"id", "title", "type", "severity", "tags", "version", "created", "last_updated"}
TAG = re.compile(r"^[a-z0-9][a-z0-9_.:/+-]{0,49}$")
META_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$")
MAX_CONTENT = 500_000


class WriteResult(BaseModel):
    id: str
    path: str
    version: int
    created: bool
    changed: bool
    indexed: bool
    message: str


def check_title(title: Any) -> str:
    if not isinstance(title, str) or not 3 <= len(title.strip()) <= 200 or "\n" in title.strip():
        raise InvalidInput("title must be one line of 3 to 200 characters")
    return title.strip()


def check_type(rtype: Any) -> str:
    if rtype not in RUNBOOK_TYPES:
        raise InvalidInput(f"type {rtype!r} is not one of {list(RUNBOOK_TYPES)}")
    return rtype


def check_severity(severity: Any) -> str:
    value = str(severity or "").lower()
    if value not in SEVERITIES:
        raise InvalidInput(f"severity {severity!r} is not one of {list(SEVERITIES)}")
    return value


def check_tags(tags: Any) -> list[str]:
    if tags is None:
        return []
    if not isinstance(tags, list) or len(tags) > 30:
        raise InvalidInput("tags must be a list of at most 30 short strings")
    out = []
    for tag in tags:
        value = str(tag).strip().lower().replace(" ", "-")
        if not TAG.match(value):
            raise InvalidInput(f"tag {tag!r} must be 1-50 characters of letters, digits and - _ . : / +")
        out.append(value)
    return list(dict.fromkeys(out))


def check_content(content: Any) -> str:
    if not isinstance(content, str) or len(content.strip()) < 20:
        raise InvalidInput("content must be markdown text of at least 20 characters")
    if len(content) > MAX_CONTENT or "\x00" in content:
        raise InvalidInput(f"content must be under {MAX_CONTENT} characters of text without NUL bytes")
    return content


def check_metadata(metadata: Any) -> dict:
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise InvalidInput("metadata must be an object")
    for key in metadata:
        if key in RESERVED:
            raise InvalidInput(f"metadata key {key!r} is set through its own field, not metadata")
        if not isinstance(key, str) or not META_KEY.match(key):
            raise InvalidInput(f"metadata key {key!r} must be an identifier (letters, digits, _ . -)")
    try:
        size = len(json.dumps(metadata))
    except (TypeError, ValueError):
        raise InvalidInput("metadata must contain only JSON values (strings, numbers, lists, objects)") from None
    if size > 20_000:
        raise InvalidInput("metadata must be under 20,000 characters as JSON")
    return metadata


class AuthoringService:
    """`from_case` is the FaultMaven case flow (learning/case_runbooks.py), offered here because
    `create_runbook_from_case` is an authoring tool."""

    def __init__(self, library: RunbookLibrary, writer: LibraryWriter, store, clock: Clock,
                 from_case: Callable[[object, bool], Any] | None = None):
        self.library = library
        self.writer = writer
        self.store = store  # its `versions`: the kept previous versions
        self.clock = clock
        self._from_case = from_case

    # -- create ------------------------------------------------------------------------------
    def create_runbook(self, title: str, content: str, type: str = "dynamic", severity: str = "medium",
                       tags: list[str] | None = None, metadata: dict | None = None,
                       runbook_id: str | None = None, folder: str | None = None,
                       author: str | None = None) -> WriteResult:
        title, rtype = check_title(title), check_type(type)
        severity, tags = check_severity(severity), check_tags(tags)
        content, metadata = check_content(content), check_metadata(metadata)
        rid = check_id(runbook_id or slugify(title)[:80].strip("-"))
        embedded, body, _ = split_front_matter(content)
        meta = {k: v for k, v in embedded.items() if k not in RESERVED}
        meta.update(metadata)
        head = {"id": rid, "title": title, "type": rtype, "severity": severity, "tags": tags}
        if author:
            meta.setdefault("author", author)
        if not re.search(r"^# ", body, re.M):
            body = f"# {title}\n\n{body}"
        written = self.writer.create(rid, folder or DEFAULT_FOLDER[rtype], lambda _rid: Markdown(
            {**head, "version": 1, "created": None, "last_updated": None, **meta}, body), exact=True)
        return _result(written, f"created {written.path}")

    # -- update ------------------------------------------------------------------------------
    def update_runbook(self, runbook_id: str, title: str | None = None, content: str | None = None,
                       type: str | None = None, severity: str | None = None, tags: list[str] | None = None,
                       metadata: dict | None = None, expected_version: int | None = None,
                       author: str | None = None, note: str | None = None) -> WriteResult:
        """Apply the given fields; metadata merges (a null value removes a key)."""
        rid = check_id(runbook_id)
        changes: dict[str, Any] = {}
        if title is not None:
            changes["title"] = check_title(title)
        if type is not None:
            changes["type"] = check_type(type)
        if severity is not None:
            changes["severity"] = check_severity(severity)
        if tags is not None:
            changes["tags"] = check_tags(tags)
        metadata = check_metadata(metadata)
        if content is not None:
            check_content(content)

        def change(meta: dict, body: str) -> Markdown | None:
            new_meta = {**meta, **changes}
            for key, value in metadata.items():
                if value is None:
                    new_meta.pop(key, None)
                else:
                    new_meta[key] = value
            new_body = body
            if content is not None:
                embedded, new_body, _ = split_front_matter(content)
                new_meta.update({k: v for k, v in embedded.items() if k not in RESERVED})
            new_meta["id"] = rid  # ids are stable: an update never renames a runbook
            if new_meta == meta and new_body.strip() == body.strip():
                return None
            return Markdown(ordered(new_meta), new_body)

        written = self.writer.update(rid, change, author=author, note=note, expected_version=expected_version)
        if not written.changed:
            return _result(written, "nothing to change")
        return _result(written, f"updated {written.path} to version {written.version}; "
                                f"version {written.version - 1} kept")

    # -- history -----------------------------------------------------------------------------
    def history(self, runbook_id: str, cursor: str | None = None, limit: int = DEFAULT_LIMIT) -> dict:
        """The current version and the kept earlier ones, newest first, a page at a time."""
        rid = check_id(runbook_id)
        relpath = self._relpath(rid)
        meta, _, _ = split_front_matter(self.library.resolve(relpath).read_text("utf-8", errors="replace"))
        saved = [{k: v for k, v in e.items() if k != "runbook_id"} for e in self.store.versions.entries(rid)]
        current = file_version(meta) or max((e["version"] for e in saved), default=0) + 1
        newest_first = sorted(saved, key=lambda e: -e["version"])
        shown, next_cursor = page(newest_first, lambda e: -e["version"], f"history:{rid}", cursor, limit)
        return {"id": rid, "path": relpath, "current_version": current,
                "last_updated": str(meta.get("last_updated") or ""), "versions": shown,
                "update_count": len(saved), "next_cursor": next_cursor}

    def version_text(self, runbook_id: str, version: int) -> str:
        info = self.history(runbook_id)
        if version == info["current_version"]:
            return self.library.resolve(info["path"]).read_text("utf-8", errors="replace")
        content = self.store.versions.read(runbook_id, version)
        if content is None:
            known = [e["version"] for e in self.store.versions.entries(runbook_id)]
            raise NotFound(f"runbook {runbook_id!r} has no saved version {version}; saved versions: {known}")
        return content.decode("utf-8", errors="replace")

    def diff(self, runbook_id: str, from_version: int, to_version: int | None = None) -> dict:
        info = self.history(runbook_id)
        to_version = to_version or info["current_version"]
        for v in (from_version, to_version):
            if not 1 <= v <= info["current_version"]:
                raise InvalidInput(f"version {v} of {runbook_id!r} does not exist; versions run from 1 "
                                   f"to {info['current_version']}")
        old, new = self.version_text(runbook_id, from_version), self.version_text(runbook_id, to_version)
        text = unified_diff(old, new, f"{runbook_id}@v{from_version}", f"{runbook_id}@v{to_version}")
        return {"id": runbook_id, "from_version": from_version, "to_version": to_version, "diff": text,
                "identical": old == new}

    # -- from a FaultMaven case --------------------------------------------------------------
    def create_from_case(self, case: object, force: bool = False):
        """`case`: a FaultMaven case, as an object or JSON text; the case flow checks its shape."""
        if self._from_case is None:
            raise InvalidInput("writing runbooks from cases is not available in this configuration")
        if isinstance(case, str):
            try:
                case = json.loads(case)
            except ValueError as exc:
                raise InvalidInput(f"case is not valid JSON ({exc}); send the FaultMaven case object") from None
        return self._from_case(case, force)

    # -- helpers -----------------------------------------------------------------------------
    def _relpath(self, rid: str) -> str:
        self.library.get(rid)  # NotFound with a hint when the id is unknown
        relpath = self.library.path_of(rid)
        if relpath is None:
            raise NotFound(f"no runbook with id {rid!r}; use `search` to find runbook ids")
        return relpath


def _result(written: Written, message: str) -> WriteResult:
    return WriteResult(id=written.id, path=written.path, version=written.version, created=written.created,
                       changed=written.changed, indexed=written.indexed, message=message)
