"""Words and pieces: tokenising for the keyword index, identifier parts for name matching, and
cutting runbooks into section-aware chunks for the embedder."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice

from ..models import Runbook, RunbookInfo

MAX_CHUNK_CHARS = 1000  # about the 256 word pieces all-MiniLM-L6-v2 reads; the rest would be cut off
MAX_HEADER_CHARS = 300
# A runbook is a page a person reads during an incident; past this many chunks (about 250 KB of
# text) a file is a log, a dump or an export, and embedding all of it would stall indexing.
MAX_CHUNKS_PER_FILE = 256

_WORD = re.compile(r"[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*")
# An acronym's plural stays one word (VMIs, PVCs), then CamelCase humps, words, acronyms, numbers.
_CAMEL = re.compile(r"[A-Z]{2,}s(?![a-z])|[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_STOP = frozenset(  # a word list reads better as words
    "a an and are as at be been but by can do does for from has have how if in into is it its "  # noqa: SIM905
    "of on or so such that the their then there these this to was were will with which when what "
    "not no you your we our than too very via e g i".split()
)


def stem(word: str) -> str:
    """A light suffix strip so 'restarting', 'restarts' and 'restart' meet (and 'running' and
    'stopped' lose the doubled consonant: run, stop)."""
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            base = word[: -len(suffix)]
            if suffix in ("ing", "ed") and len(base) > 2 and base[-1] == base[-2] and base[-1] not in "lsz":
                base = base[:-1]
            return base
    return word


def _pieces(word: str) -> list[str]:
    return [m.group().lower() for p in re.split(r"[._-]", word) if p for m in _CAMEL.finditer(p)]


def tokenize(text: str) -> list[str]:
    """Lower-cased stems, plus every identifier whole and split at camelCase and punctuation.

    'KubePodCrashLooping' gives kubepodcrashlooping, kube, pod, crash, loop; 'x509' stays x509;
    'no-space' gives no-space, space. Whole identifiers make exact alert names and error codes
    rare terms that win the keyword ranking.
    """
    out: list[str] = []
    for match in _WORD.finditer(text):
        word = match.group()
        lower = word.lower()
        pieces = _pieces(word)
        if len(pieces) > 1:
            out.append(lower)
            out.extend(stem(p) for p in pieces if p not in _STOP and len(p) > 1)
        elif lower not in _STOP and len(lower) > 1:
            out.append(stem(lower))
    return out


def identifier_parts(word: str) -> tuple[str, ...]:
    """'KubeAPIDown' -> (kube, api, down); 'etcd_db_total' -> (etcd, db, total): the words an
    identifier is made of, stemmed like `tokenize`, stop words left out."""
    return tuple(stem(p) for p in _pieces(word) if p not in _STOP)


def name_key(text: str) -> str:
    """'Node RAID Disk Failure', 'node-raid-disk-failure' and 'NodeRAIDDiskFailure' all give
    'noderaiddiskfailure': one key for a name however it is written."""
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def looks_like_identifier(word: str) -> bool:
    """CamelCase, snake_case, ALLCAPS codes and letter-digit mixes: names and codes, not prose."""
    if len(word) < 4:
        return False
    return bool(
        (re.search(r"[a-z]", word) and re.search(r"[A-Z]", word[1:]))
        or (word.isupper() and word.isalpha() and len(word) >= 5)
        or (re.search(r"\d", word) and re.search(r"[A-Za-z]", word))
        or ("_" in word.strip("_") and re.search(r"[A-Za-z]", word))
    )


def identifiers(text: str) -> set[str]:
    """Lower-cased tokens of `text` that look like names or codes."""
    return {m.group().lower() for m in _WORD.finditer(text) if looks_like_identifier(m.group())}


def spell_out(text: str) -> str:
    """Identifiers followed by their words: 'KubeAPIDown' -> 'KubeAPIDown (kube api down)'. The
    embedding model reads a CamelCase name as a few odd word pieces; spelled out, an alert
    name and a sentence about the same thing land close together."""
    def expand(match: re.Match) -> str:
        word = match.group()
        pieces = _pieces(word)
        words = sum(p.isalpha() and len(p) > 1 for p in pieces)
        return f"{word} ({' '.join(pieces)})" if words > 1 and looks_like_identifier(word) else word

    return _WORD.sub(expand, text)


@dataclass
class Chunk:
    section: str  # heading path joined with ' > '
    text: str  # what gets embedded: title and heading path, then the section text


def head_text(rb: RunbookInfo) -> str:
    """The fields that name a runbook: title, aliases, alerts, tags, symptom classes."""
    return " ".join([rb.title, *rb.aliases, *rb.alerts, *rb.tags, *rb.symptom_class]).strip()


def _split(text: str, limit: int) -> list[str]:
    """Cut text at blank lines, then lines, then characters, so no piece exceeds `limit`."""
    if limit <= 0:
        raise ValueError(f"chunk size limit must be positive, got {limit}")
    if len(text) <= limit:
        return [text]
    pieces: list[str] = []
    current = ""
    for block in re.split(r"\n\s*\n", text):
        units = [block] if len(block) <= limit else block.splitlines() or [block]
        for unit in units:
            while len(unit) > limit:
                pieces.append(unit[:limit])
                unit = unit[limit:]
            if current and len(current) + len(unit) + 2 > limit:
                pieces.append(current)
                current = ""
            current = f"{current}\n\n{unit}" if current else unit
    if current:
        pieces.append(current)
    return pieces


def _common_path(paths: list[list[str]]) -> list[str]:
    first = paths[0]
    n = len(first)
    for path in paths[1:]:
        n = min(n, len(path))
        while n and path[:n] != first[:n]:
            n -= 1
    return first[:n]


def iter_chunks(rb: Runbook, limit: int = MAX_CHUNK_CHARS) -> Iterator[Chunk]:
    """One chunk naming the runbook, then the sections in order. Small sections under one
    top-level heading share a chunk (their headings kept in the text): a heading of three words
    over one line would otherwise cost a forward pass and a header as long as its text."""
    yield Chunk(section="", text=f"{spell_out(head_text(rb))}\n{rb.summary}".strip())
    title = spell_out(rb.title)

    def emit(paths: list[list[str]], parts: list[str]) -> Iterator[Chunk]:
        path = " > ".join(_common_path(paths))
        header = (f"{title} > {path}" if path else title)[:MAX_HEADER_CHARS]
        for piece in _split("\n\n".join(parts), limit - len(header) - 1):
            yield Chunk(section=path, text=f"{header}\n{piece}")

    paths: list[list[str]] = []
    parts: list[str] = []
    size = 0
    for section in rb.sections:
        text = section.text.strip()
        if not text:
            continue
        top = section.path[:1]
        # A section under the group's top heading carries its own heading into the shared text.
        piece = f"{section.heading}\n{text}" if len(section.path) > 1 else text
        if paths and (paths[0][:1] != top or size + len(piece) + 2 > limit - MAX_HEADER_CHARS):
            yield from emit(paths, parts)
            paths, parts, size = [], [], 0
        paths.append(section.path)
        parts.append(piece)
        size += len(piece) + 2
    if parts:
        yield from emit(paths, parts)


def chunk_runbook(rb: Runbook, limit: int = MAX_CHUNK_CHARS, max_chunks: int = MAX_CHUNKS_PER_FILE) -> list[Chunk]:
    """The runbook's chunks, at most `max_chunks`; the chunks are made lazily, so a huge file
    costs only what is kept."""
    return list(islice(iter_chunks(rb, limit), max_chunks))
