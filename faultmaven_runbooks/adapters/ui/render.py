"""Runbook markdown and diffs as HTML that cannot run anything.

A runbook is text anyone with write access to the library (or an agent through
`create_runbook`) may have written, so it is hostile input to the page: raw HTML in it is shown as
text, never parsed (markdown-it's `html` option off), and links keep only safe schemes. The page's
Content-Security-Policy (no inline script, scripts from /ui/static alone) is the second wall.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markupsafe import Markup

from ...library.markdown import split_front_matter

_SAFE_SCHEMES = ("http:", "https:", "mailto:", "#", "/")


def _safe_link(url: str) -> bool:
    # javascript:, data:, vbscript: and any other scheme a browser might execute are dropped;
    # relative links (no scheme) stay.
    lowered = "".join(url.split()).lower()
    return lowered.startswith(_SAFE_SCHEMES) or ":" not in lowered.split("/", 1)[0]


_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")
_md.validateLink = _safe_link  # type: ignore[method-assign]


def markdown_html(text: str) -> Markup:
    """Markdown body (front matter removed) rendered with raw HTML escaped."""
    _, body, _ = split_front_matter(text)
    return Markup(_md.render(body))  # noqa: S704 - markdown-it escaped every raw HTML and attribute


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "add", "del", "hunk", "file" or "same"
    text: str


def diff_lines(diff: str) -> list[DiffLine]:
    """A unified diff, line by line, classified for colouring (the template escapes the text)."""
    out = []
    for line in diff.splitlines():
        if line.startswith(("+++", "---")):
            kind = "file"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        else:
            kind = "same"
        out.append(DiffLine(kind, line))
    return out


def text_diff(old: str, new: str, old_label: str, new_label: str) -> list[DiffLine]:
    """Two texts as a unified diff (three lines of context), for a draft beside its closest runbook."""
    text = "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        fromfile=old_label, tofile=new_label))
    return diff_lines(text)
