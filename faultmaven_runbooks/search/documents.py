"""A runbook as search sees it: its fields (name, lead, body), its kind and where it points.

- name: title, alert names, aliases and the file name: what a runbook is called.
- lead: what the runbook says it is about: the summary, the text before the first section and
  sections such as Meaning, Summary, Overview or Symptoms.
- body: everything else, without the title and heading path each chunk repeats.

Kinds: a *stub* only points elsewhere ("See [Node RAID Degraded](./NodeRAIDDegraded.md)"); an
*index* is a README, `_index.md` or a page that is mostly links; both are not runbooks in
their own right. Everything else is a *runbook*.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from ..models import RunbookInfo
from .text import identifier_parts, looks_like_identifier, name_key

LEAD_HEADINGS = re.compile(
    r"^(meaning|summary|overview|description|symptoms?|problem( summary| statement)?|about|what( is it)?|"
    r"context|background|introduction|alert( description)?)\b",
    re.I,
)
LEAD_CHARS = 1500
HELPER_NAMES = {"readme", "_index", "index", "contributing", "template", "changelog", "license", "code_of_conduct",
                "toc", "sidebar", "_sidebar", "glossary"}
STUB_WORDS = 25  # a page saying less than this beside its links, and saying "see" or "moved", only points elsewhere
_POINTER = re.compile(r"\b(see|moved|refer(red)? to|deprecated|replaced|superseded|removed|now (lives|lies)|"
                      r"go to|documented (in|at)|in favou?r of|merged into)\b", re.I)
INDEX_LINKS = 6  # a page with at least this many links ...
INDEX_LINK_SHARE = 0.5  # ... that are at least this share of its words is a list of links

_LINK = re.compile(r"\[([^\]]*)\]\(\s*(?:\{\{<\s*(?:rel)?ref\s+\"([^\"]+)\"\s*>\}\}|<?([^)\s>]+)>?)[^)]*\)")
_HUGO_REF = re.compile(r"\{\{<\s*(?:rel)?ref\s+\"([^\"]+)\"\s*>\}\}")
_URL = re.compile(r"https?://\S+")
_CODE = re.compile(r"```.*?```|`[^`]*`", re.S)
_PROSE_WORD = re.compile(r"[A-Za-z][A-Za-z'-]+")


@dataclass
class SearchDoc:
    """One runbook's search view; built from the index's chunks, so every replica agrees."""

    info: RunbookInfo
    path: str
    name: str
    lead: str
    body: str
    kind: str  # runbook | stub | index
    links: list[str] = field(default_factory=list)  # link targets as written
    names: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)  # (key, parts) of its names
    codes: set[str] = field(default_factory=set)  # keys of names and codes inside its title: OOMKilled

    @property
    def stem(self) -> str:
        return PurePosixPath(self.path).stem


def _name_sources(info: RunbookInfo, stem: str) -> list[str]:
    return [stem, info.title, *info.aliases, *info.alerts]


def build_doc(info: RunbookInfo, sections: list[str], texts: list[str]) -> SearchDoc:
    """`sections` and `texts` are the runbook's chunks in order; chunk 0 names the runbook."""
    stem = PurePosixPath(info.path).stem
    name = " ".join(dict.fromkeys(s for s in [*_name_sources(info, stem), *(
        " ".join(identifier_parts(w)) for w in (stem, *info.alerts))] if s))
    lead_parts = [info.summary, " ".join(info.tags + info.symptom_class)]
    body_parts = []
    for n, (section, text) in enumerate(zip(sections, texts, strict=True)):
        if n == 0:
            continue
        content = text.split("\n", 1)[1] if "\n" in text else ""  # without the repeated header line
        body_parts.append(content)
        top = section.split(" > ", 1)[0]
        if not section or LEAD_HEADINGS.match(top):
            lead_parts.append(content)
    body = "\n".join(body_parts)
    lead = "\n".join(p for p in lead_parts if p)[:LEAD_CHARS]
    names: list[tuple[str, tuple[str, ...]]] = []
    for source in _name_sources(info, stem):
        key = name_key(source)
        if len(key) >= 3 and key not in {k for k, _ in names}:
            names.append((key, tuple(p for w in source.split() for p in identifier_parts(w))))
    codes = {name_key(w) for source in (info.title, *info.aliases) for w in re.findall(r"[\w.-]+", source)
             if looks_like_identifier(w)}
    links = [m.group(2) or m.group(3) for m in _LINK.finditer(body)]
    links += [m.group(1) for m in _HUGO_REF.finditer(body) if m.group(1) not in links]
    return SearchDoc(info=info, path=info.path, name=name, lead=lead, body=body,
                     kind=_kind(stem, body, links), links=links, names=names, codes=codes)


def _kind(stem: str, body: str, links: list[str]) -> str:
    if stem.lower() in HELPER_NAMES:
        return "index"
    prose = _CODE.sub(" ", body)
    link_words = sum(len(_PROSE_WORD.findall(m.group(1))) for m in _LINK.finditer(prose))
    prose = _URL.sub(" ", _LINK.sub(lambda m: m.group(1), prose))
    prose = re.sub(r"^#+ .*$", " ", prose, flags=re.M)  # headings are not statements
    words = len(_PROSE_WORD.findall(prose))
    has_code = "```" in body
    if links and words <= STUB_WORDS and not has_code and _POINTER.search(prose):
        return "stub"
    if len(links) >= INDEX_LINKS and link_words >= INDEX_LINK_SHARE * max(words, 1):
        return "index"
    return "runbook"


def resolve_link(link: str, from_path: str, by_path: dict[str, int], by_stem: dict[str, list[int]]) -> int | None:
    """The document a link in `from_path` points to, if it is in the library: a relative path,
    a Hugo ref, or a URL whose last segment is a runbook's file name (published runbook sites
    lower-case it: .../runbooks/node/noderaiddegraded)."""
    target = link.split("#", 1)[0].split("?", 1)[0].strip()
    if not target:
        return None
    if "://" not in target:
        base = PurePosixPath(from_path).parent
        parts: list[str] = []
        for part in (base / target).parts if not target.startswith("/") else PurePosixPath(target).parts[1:]:
            if part == "..":
                if parts:
                    parts.pop()
            elif part != ".":
                parts.append(part)
        candidate = "/".join(parts)
        for path in (candidate, f"{candidate}.md", f"{candidate}/README.md", f"{candidate}/_index.md"):
            if path in by_path:
                return by_path[path]
    last = PurePosixPath(target.rstrip("/")).name
    last = re.sub(r"\.(md|html?)$", "", last, flags=re.I).lower()
    found = by_stem.get(last, [])
    return found[0] if len(found) == 1 else None


_STATUS_WORDS = {
    "verified": "verified", "approved": "verified", "published": "verified", "active": "verified",
    "reviewed": "verified", "stable": "verified", "current": "verified",
    "draft": "draft", "proposed": "draft", "review": "draft", "in-review": "draft", "pending": "draft", "wip": "draft",
    "deprecated": "deprecated", "obsolete": "deprecated", "archived": "deprecated", "retired": "deprecated",
    "superseded": "deprecated",
}


def effective_status(info: RunbookInfo) -> str:
    """verified | draft | deprecated. A runbook without a status is verified, unless it is a
    dynamic one (learned from incidents), which stays a draft until someone says otherwise."""
    if info.status:
        return _STATUS_WORDS.get(info.status.strip().lower(), "draft")
    return "draft" if info.type == "dynamic" else "verified"
