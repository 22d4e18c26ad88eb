"""Markdown runbook <-> `Runbook`: front matter, heading-path sections, and the command steps
steps.py finds in them.

Parsing never raises for content problems: broken front matter, a missing title or odd
bytes are recorded in `ParseResult.warnings` and the best possible runbook is returned.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import yaml
from markdown_it import MarkdownIt

from ..models import RUNBOOK_TYPES, Runbook, Section
from .steps import MARKDOWN, find_steps

# Cutting a body at its headings needs the block structure only: the inline pass (emphasis, code
# spans, links in every paragraph) was half the parse, and the steps parse each section again.
BLOCKS = MarkdownIt("commonmark").enable("table").disable("inline")

__all__ = ["ParseResult", "default_type", "normalize_severity", "parse_runbook", "render_front_matter", "slugify",
           "split_front_matter"]

_SEVERITY_ALIASES = {
    "critical": "critical", "p1": "critical", "sev1": "critical", "page": "critical",
    "high": "high", "p2": "high", "sev2": "high", "error": "high", "major": "high",
    "medium": "medium", "p3": "medium", "sev3": "medium", "warning": "medium", "moderate": "medium",
    "low": "low", "p4": "low", "minor": "low", "info": "info", "none": "info",
}
SUMMARY_CHARS = 300


@dataclass
class ParseResult:
    runbook: Runbook | None
    warnings: list[str] = field(default_factory=list)


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def default_type(relpath: str) -> str:
    parts = PurePosixPath(relpath).parts
    if "templates" in parts:
        return "template"
    if parts and parts[0] == "dynamic":
        return "dynamic"
    return "static"


def normalize_severity(value: object) -> str:
    return _SEVERITY_ALIASES.get(str(value).strip().lower(), "medium") if value else "medium"


def _yaml(text: str) -> object:
    """YAML front matter, through libyaml where PyYAML was built with it (several times faster
    than the pure-Python reader; the same safe subset of YAML)."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def split_front_matter(text: str) -> tuple[dict, str, list[str]]:
    """Return (front matter, body, warnings). YAML (---) and Hugo TOML (+++) are understood."""
    text = text.lstrip("\ufeff")
    for fence, loader in (("---", _yaml), ("+++", tomllib.loads)):
        if not text.startswith(fence + "\n") and not text.startswith(fence + "\r\n"):
            continue
        end = re.search(rf"^{re.escape(fence)}[ \t]*\r?$", text[len(fence) + 1:], re.M)
        if not end:
            return {}, text, [f"front matter opened with {fence} but never closed; read as plain markdown"]
        raw = text[len(fence) + 1: len(fence) + 1 + end.start()]
        body = text[len(fence) + 1 + end.end():].lstrip("\r\n")
        try:
            data = loader(raw) or {}
        except Exception as exc:  # yaml.YAMLError, tomllib.TOMLDecodeError
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            return {}, body, [f"front matter is not valid ({first}); metadata taken from the text instead"]
        if not isinstance(data, dict):
            return {}, body, ["front matter is not a mapping; metadata taken from the text instead"]
        return data, body, []
    return {}, text, []


def _as_list(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, (list, tuple, set)):
        return [str(v).strip() for v in value if str(v).strip()]
    return [str(value)]


def _as_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def _sections(body: str) -> tuple[list[Section], str | None]:
    """Cut the body at every heading; returns the sections and the first H1 text."""
    lines = body.splitlines()
    tokens = BLOCKS.parse(body)
    heads: list[tuple[int, int, int, str]] = []  # (first line, first line after it, level, text)
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open" and tok.map:
            # map[1] skips a setext heading's underline along with the heading line itself
            heads.append((tok.map[0], tok.map[1], int(tok.tag[1]), tokens[i + 1].content.strip()))
    h1 = next((text for _, _, level, text in heads if level == 1), None)
    # A single H1 is the document's title, not a level of the heading path.
    drop_h1 = sum(1 for _, _, level, _ in heads if level == 1) == 1
    sections: list[Section] = []
    first = heads[0][0] if heads else len(lines)
    preamble = "\n".join(lines[:first]).strip()
    if preamble:
        sections.append(Section(heading="", path=[], level=0, text=preamble))
    stack: list[tuple[int, str]] = []
    for n, (_, body_start, level, text) in enumerate(heads):
        end = heads[n + 1][0] if n + 1 < len(heads) else len(lines)
        while stack and stack[-1][0] >= level:
            stack.pop()
        if not (drop_h1 and level == 1):
            stack.append((level, text))
        content = "\n".join(lines[body_start:end]).strip()
        sections.append(Section(heading=text, path=[t for _, t in stack], level=level, text=content))
    return sections, h1


def _summary(meta: dict, sections: list[Section]) -> str:
    explicit = meta.get("summary") or meta.get("description")
    if explicit:
        return str(explicit)[:SUMMARY_CHARS]
    for section in sections:
        for tok in MARKDOWN.parse(section.text):
            if tok.type == "inline" and len(tok.content) > 20 and not tok.content.startswith("**"):
                text = re.sub(r"\s+", " ", tok.content).strip()
                return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1] + "…"
    return ""


def parse_runbook(raw: bytes | str, relpath: str) -> ParseResult:
    """Parse one markdown file. `relpath` is relative to the library root, '/'-separated."""
    warnings: list[str] = []
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("utf-8", errors="replace")
            warnings.append("file is not valid UTF-8; undecodable bytes were replaced")
    else:
        text = raw
    meta, body, fm_warnings = split_front_matter(text)
    warnings += fm_warnings
    sections, h1 = _sections(body)
    if not any(s.text or s.heading for s in sections) or len(body.strip()) < 20:
        return ParseResult(None, warnings + ["no runbook content (an empty file or a stub); skipped"])

    stem = PurePosixPath(relpath).stem
    title = str(meta.get("title") or h1 or stem.replace("-", " ").replace("_", " ")).strip()
    rtype = str(meta.get("type", "")).lower()
    version = meta.get("version")
    known = {"id", "title", "type", "severity", "tags", "service", "domain", "status", "version",
             "created", "last_updated", "alerts", "symptom_class", "summary", "description", "aliases"}
    extra = {k: v for k, v in meta.items() if k not in known}
    aliases = _as_list(meta.get("aliases"))
    if h1 and h1 != title and h1 not in aliases:
        aliases.append(h1)
    runbook = Runbook(
        id=slugify(str(meta.get("id") or stem)) or "runbook",
        title=title,
        type=rtype if rtype in RUNBOOK_TYPES else default_type(relpath),
        severity=normalize_severity(meta.get("severity")),
        tags=_as_list(meta.get("tags")),
        service=_as_text(meta.get("service")),
        domain=_as_text(meta.get("domain")),
        status=_as_text(meta.get("status")),
        version=version if isinstance(version, (int, str)) else _as_text(version),
        created=_as_text(meta.get("created") or meta.get("date")),
        last_updated=_as_text(meta.get("last_updated") or meta.get("lastmod") or meta.get("created")),
        alerts=_as_list(meta.get("alerts")),
        symptom_class=_as_list(meta.get("symptom_class")),
        aliases=aliases,
        summary=_summary(meta, sections),
        path=relpath,
        content=text,
        sections=sections,
        steps=find_steps(sections),
        metadata=_jsonable_dict(extra),
    )
    return ParseResult(runbook, warnings)


def _jsonable_dict(value: dict) -> dict[str, object]:
    return {str(k): _jsonable(v) for k, v in value.items()}


def _jsonable(value: object) -> object:
    if isinstance(value, dict):
        return _jsonable_dict(value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def render_front_matter(meta: dict) -> str:
    """YAML front matter block for writing a runbook back to disk."""
    clean = {k: v for k, v in _jsonable_dict(meta).items() if v not in (None, [], {})}
    return "---\n" + yaml.safe_dump(clean, sort_keys=False, allow_unicode=True) + "---\n"
