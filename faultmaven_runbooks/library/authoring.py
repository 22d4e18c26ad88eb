"""Create and update runbooks with validation, stable ids, a lock per runbook and kept versions.

Every write takes the runbook's file lock (threads and processes), saves the previous bytes to
the version store, then replaces the file atomically: two concurrent updates are applied one
after the other, and a crash leaves either the old file or the new one.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import PurePosixPath
from typing import Any

from pydantic import BaseModel

from ..errors import Conflict, InvalidInput, NotFound
from ..learning.jsonstate import file_lock
from ..models import RUNBOOK_TYPES, SEVERITIES
from ..paging import DEFAULT_LIMIT, page
from ..settings import LearningSettings
from .markdown import render_front_matter, slugify, split_front_matter
from .versions import VersionStore, check_id, unified_diff

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
        raise InvalidInput("metadata must contain only JSON values (strings, numbers, lists, objects)")
    if size > 20_000:
        raise InvalidInput("metadata must be under 20,000 characters as JSON")
    return metadata


def compose(meta: dict, body: str) -> str:
    return render_front_matter(meta) + "\n" + body.lstrip("\n").rstrip() + "\n"


class AuthoringService:
    def __init__(self, settings, service, features: LearningSettings | None = None):
        self.settings = settings
        self.service = service
        self.library = service.library
        self.features = features or settings.learning
        self.clock = service.clock
        self.versions = VersionStore(settings.data_dir, self.clock)
        self._locks = settings.data_dir / "locks" / "runbooks"

    def lock(self, runbook_id: str):
        return file_lock(self._locks / f"{check_id(runbook_id)}.lock")

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
        today = self.clock().date().isoformat()
        head = {"id": rid, "title": title, "type": rtype, "severity": severity, "tags": tags,
                "version": 1, "created": today, "last_updated": today}
        if author:
            meta.setdefault("author", author)
        if not re.search(r"^# ", body, re.M):
            body = f"# {title}\n\n{body}"
        return self.write_new(rid, compose({**head, **meta}, body), folder or DEFAULT_FOLDER[rtype])

    def write_new(self, rid: str, text: str, folder: str) -> WriteResult:
        """Write a new runbook file; refuses an id or a file name that is already taken."""
        # Absolute paths and '..' would write outside the library (path traversal); hidden folders
        # are skipped by the library scan, so a runbook written there would silently vanish.
        if folder.startswith(("/", "~")) or "\\" in folder or ":" in folder:
            raise InvalidInput(f"folder {folder!r} must be a path relative to the library root")
        folder = folder.strip("/")
        if any(part.startswith(".") for part in PurePosixPath(folder).parts):
            raise InvalidInput(f"folder {folder!r} must not contain hidden or '..' parts")
        relpath = f"{folder}/{rid}.md" if folder else f"{rid}.md"
        target = self.library.resolve(relpath)  # refuses absolute paths and '..' (path traversal)
        with self.lock(rid):
            self.library.scan()
            if self.library.path_of(rid) is not None:
                raise Conflict(f"a runbook with id {rid!r} already exists ({self.library.path_of(rid)}); "
                               "choose another id or update that runbook")
            if target.exists():
                raise Conflict(f"file {relpath} already exists; choose another id or folder")
            self.library.write(relpath, text)
        indexed = self._reindex(relpath)
        return WriteResult(id=rid, path=relpath, version=1, created=True, changed=True, indexed=indexed,
                           message=f"created {relpath}")

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
        with self.lock(rid):
            relpath = self._relpath(rid)
            path = self.library.resolve(relpath)
            old_bytes = path.read_bytes()
            meta, body, _ = split_front_matter(old_bytes.decode("utf-8", errors="replace"))
            # The file's own version wins; a crash between saving a version and writing the file
            # then just re-saves the same version next time instead of skipping a number.
            current = _as_int(meta["version"]) if meta.get("version") is not None \
                else self.versions.last_version(rid) + 1
            if expected_version is not None and expected_version != current:
                raise Conflict(f"runbook {rid!r} is at version {current}, not {expected_version}: "
                               "read it again and reapply your change")
            new_meta = dict(meta)
            new_meta.update(changes)
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
                return WriteResult(id=rid, path=relpath, version=current, created=False, changed=False,
                                   indexed=False, message="nothing to change")
            body = new_body
            new_meta["version"] = current + 1
            new_meta["last_updated"] = self.clock().date().isoformat()
            self.versions.save(rid, current, old_bytes, author, note)
            self.library.write(relpath, compose(_ordered(new_meta), body))
        indexed = self._reindex(relpath)
        return WriteResult(id=rid, path=relpath, version=current + 1, created=False, changed=True,
                           indexed=indexed, message=f"updated {relpath} to version {current + 1}; "
                                                    f"version {current} kept")

    # -- history -----------------------------------------------------------------------------
    def history(self, runbook_id: str, cursor: str | None = None, limit: int = DEFAULT_LIMIT) -> dict:
        """The current version and the kept earlier ones, newest first, a page at a time."""
        rid = check_id(runbook_id)
        relpath = self._relpath(rid)
        meta, _, _ = split_front_matter(self.library.resolve(relpath).read_text("utf-8", errors="replace"))
        saved = self.versions.entries(rid)
        current = _as_int(meta["version"]) if meta.get("version") is not None \
            else max((e["version"] for e in saved), default=0) + 1
        newest_first = sorted(saved, key=lambda e: -e["version"])
        shown, next_cursor = page(newest_first, lambda e: -e["version"], f"history:{rid}", cursor, limit)
        return {"id": rid, "path": relpath, "current_version": current,
                "last_updated": str(meta.get("last_updated") or ""), "versions": shown,
                "update_count": len(saved), "next_cursor": next_cursor}

    def version_text(self, runbook_id: str, version: int) -> str:
        info = self.history(runbook_id)
        if version == info["current_version"]:
            return self.library.resolve(info["path"]).read_text("utf-8", errors="replace")
        return self.versions.read(runbook_id, version)

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
    def create_from_case(self, case: dict | str, force: bool = False):
        from ..learning.case_runbooks import (
            runbook_from_case,  # one job per module: the case flow lives there
        )
        if isinstance(case, str):
            try:
                case = json.loads(case)
            except ValueError as exc:
                raise InvalidInput(f"case is not valid JSON ({exc}); send the FaultMaven case object") from None
        return runbook_from_case(self, case, force=force)

    # -- helpers -----------------------------------------------------------------------------
    def _relpath(self, rid: str) -> str:
        self.library.get(rid)  # NotFound with a hint when the id is unknown
        relpath = self.library.path_of(rid)
        if relpath is None:
            raise NotFound(f"no runbook with id {rid!r}; use `search` to find runbook ids")
        return relpath

    def _reindex(self, relpath: str) -> bool:
        reindex = getattr(self.service, "reindex", None)
        if reindex is None:
            return False
        try:
            reindex([relpath])
            return True
        except Exception:  # the file is written and is the truth; the index catches up on next sync
            log.exception("indexing %s failed; it will be indexed on the next reindex", relpath)
            return False


def _as_int(value: Any) -> int:
    try:
        return max(1, int(str(value).split(".")[0]))
    except (TypeError, ValueError):
        return 1


def _ordered(meta: dict) -> dict:
    first = ["id", "title", "type", "severity", "tags", "service", "domain", "status", "version",
             "created", "last_updated"]
    return {**{k: meta[k] for k in first if k in meta}, **{k: v for k, v in meta.items() if k not in first}}
