"""Markdown building blocks shared by everything that writes runbooks: people's (authoring),
learned ones (incidents, patterns) and those written from FaultMaven cases.

A renderer returns a `Markdown` (front matter + body); the library writer stamps its version
and dates and writes `text()`. What each renderer says is its own; how lists, code blocks and
the front matter are written is decided here, once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .markdown import render_front_matter

# The order people expect to read the front matter in; other keys follow in their own order.
FIRST_KEYS = ("id", "title", "type", "severity", "tags", "service", "domain", "status", "version",
              "created", "last_updated")


@dataclass
class Markdown:
    meta: dict
    body: str

    def text(self) -> str:
        return render_front_matter(self.meta) + "\n" + self.body.lstrip("\n").rstrip() + "\n"


def ordered(meta: dict) -> dict:
    return {**{k: meta[k] for k in FIRST_KEYS if k in meta}, **{k: v for k, v in meta.items() if k not in FIRST_KEYS}}


def one_line(text: object) -> str:
    return re.sub(r"\s+", " ", str(text)).strip()


def bullets(items: Iterable[object], empty: str = "") -> str:
    """A `- ` list of the non-empty items; `- empty` (or nothing) when there are none."""
    lines = [f"- {one_line(i)}" for i in items if i]
    return "\n".join(lines) if lines else (f"- {empty}" if empty else "")


def numbered(items: Iterable[object], empty: str) -> str:
    lines = [f"{n}. {one_line(i)}" for n, i in enumerate([i for i in items if i], 1)]
    return "\n".join(lines) if lines else f"1. {empty}"


def fence(lines: list[str], lang: str = "bash") -> str:
    # A fence longer than any backtick run inside stops an extract from closing the block early.
    body = "\n".join(lines)
    ticks = "`" * max(3, max((len(m) for m in re.findall(r"`+", body)), default=0) + 1)
    return f"{ticks}{lang}\n{body}\n{ticks}"
