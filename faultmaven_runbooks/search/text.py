"""Tokenising for the keyword index and cutting runbooks into section-aware chunks."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..models import Runbook, RunbookInfo

MAX_CHUNK_CHARS = 1000  # about the 256 word pieces all-MiniLM-L6-v2 reads; the rest would be cut off
MAX_HEADER_CHARS = 300

_WORD = re.compile(r"[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_STOP = frozenset(
    "a an and are as at be been but by can do does for from has have how if in into is it its "
    "of on or so such that the their then there these this to was were will with which when what "
    "not no you your we our than too very via e g i".split()
)


def stem(word: str) -> str:
    """A light suffix strip so 'restarting', 'restarts' and 'restart' meet."""
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


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
        pieces = [m.group().lower() for p in re.split(r"[._-]", word) if p for m in _CAMEL.finditer(p)]
        if len(pieces) > 1:
            out.append(lower)
            out.extend(stem(p) for p in pieces if p not in _STOP and len(p) > 1)
        elif lower not in _STOP and len(lower) > 1:
            out.append(stem(lower))
    return out


def identifiers(text: str) -> set[str]:
    """Tokens that look like names or codes (CamelCase, digits, ALLCAPS, dotted, dashed)."""
    found = set()
    for match in _WORD.finditer(text):
        word = match.group()
        if len(word) < 4:
            continue
        if (
            (re.search(r"[a-z]", word) and re.search(r"[A-Z]", word[1:]))
            or (word.isupper() and word.isalpha() and len(word) >= 5)
            or (re.search(r"\d", word) and re.search(r"[A-Za-z]", word))
        ):
            found.add(word.lower())
    return found


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


def chunk_runbook(rb: Runbook, limit: int = MAX_CHUNK_CHARS) -> list[Chunk]:
    """One chunk naming the runbook, then one or more per non-empty section."""
    chunks = [Chunk(section="", text=f"{head_text(rb)}\n{rb.summary}".strip())]
    for section in rb.sections:
        if not section.text.strip():
            continue
        path = " > ".join(section.path)
        # The header is capped so a very long title or heading path still leaves room for text.
        header = (f"{rb.title} > {path}" if path else rb.title)[:MAX_HEADER_CHARS]
        for piece in _split(section.text.strip(), limit - len(header) - 1):
            chunks.append(Chunk(section=path, text=f"{header}\n{piece}"))
    return chunks
