"""Markdown runbook <-> `Runbook`: front matter, heading-path sections and command steps.

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

from ..models import RUNBOOK_TYPES, Runbook, Section, Step

_md = MarkdownIt("commonmark").enable("table")

PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
# Inline code counts as a step only when it starts with a command-line tool.
_COMMAND_TOOLS = {
    "kubectl", "helm", "etcdctl", "redis-cli", "psql", "mysql", "curl", "openssl", "dig",
    "nslookup", "journalctl", "systemctl", "crictl", "docker", "df", "du", "promtool", "amtool",
    "aws", "gcloud", "az", "ss", "netstat", "top", "free", "iostat", "ping", "kafka-consumer-groups", "oc",
}
_SHELL_LANGS = {"", "bash", "sh", "shell", "console", "zsh", "shell-session"}
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


def split_front_matter(text: str) -> tuple[dict, str, list[str]]:
    """Return (front matter, body, warnings). YAML (---) and Hugo TOML (+++) are understood."""
    text = text.lstrip("\ufeff")
    for fence, loader in (("---", yaml.safe_load), ("+++", tomllib.loads)):
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
    tokens = _md.parse(body)
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


def _steps(sections: list[Section]) -> list[Step]:
    steps: list[Step] = []
    for section in sections:
        where = " > ".join(section.path) or section.heading
        last_prose = section.heading
        for tok in _md.parse(section.text):
            if tok.type == "inline":
                prose = tok.content.strip()
                for child in tok.children or []:
                    if child.type == "code_inline" and child.content.split(" ", 1)[0] in _COMMAND_TOOLS:
                        steps.append(_step(len(steps) + 1, child.content, prose, where))
                if prose:
                    last_prose = prose
            elif tok.type == "fence" and tok.info.strip().split(" ")[0].lower() in _SHELL_LANGS:
                comment = ""
                for command in _block_commands(tok.content):
                    if command.startswith("#"):
                        comment = command.lstrip("# ").strip()
                        continue
                    steps.append(_step(len(steps) + 1, command, comment or last_prose, where))
                    comment = ""
    return steps


# A console prompt before a command: `$ kubectl ...`, `user@host:~$ oc ...`, `[root@node ~]# ...`.
_PROMPT = re.compile(r"^(?:\[[^\]\s]{1,60}(?: [^\]]{1,60})?\]|[\w.@-]{1,60}:[~\w./-]{0,80})?[$#]\s|^\$\s|^\$$")
# A here-document opener (`cat <<EOF | kubectl apply -f -`): the lines up to the delimiter are its input.
_HEREDOC = re.compile(r"<<-?\s*['\"]?([A-Za-z_][A-Za-z0-9_]*)['\"]?")
# Output printed under a command in a block without prompts: aligned columns (`NAME   READY   STATUS`,
# `web-1   1/1   Running`) or describe fields (`Name:         web`).
_OUTPUT = re.compile(r"\S {3,}\S|^[A-Z][A-Za-z ]{0,30}:\s{2,}\S|^\s*[A-Z][A-Z0-9_-]+(\s{2,}[A-Z][A-Z0-9_-]+)+\s*$")
_ASSIGNMENT = re.compile(r"^(export\s+)?[A-Za-z_][A-Za-z0-9_]*=")


def _starts_command(line: str) -> bool:
    return bool(_ASSIGNMENT.match(line)) or line.startswith(("#", "$ ")) or line.split(" ", 1)[0] in _COMMAND_TOOLS


def _logical_lines(block: str) -> list[str]:
    """Physical lines with backslash continuations joined and here-document bodies dropped."""
    out: list[str] = []
    pending = ""
    lines = block.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i].rstrip()
        i += 1
        if line.endswith("\\"):
            pending += line[:-1].strip() + " "
            continue
        line = (pending + line.strip()).strip()
        pending = ""
        heredoc = _HEREDOC.search(line)
        if heredoc:  # the body is the command's input, not commands of its own
            while i < len(lines) and lines[i].strip() != heredoc.group(1):
                i += 1
            i += 1
        out.append(line)
    if pending.strip():
        out.append(pending.strip())
    return out


def _block_commands(block: str) -> list[str]:
    """The commands of a shell block: continuations joined, prompts removed, output left out.

    A block that shows prompts (`$ kubectl get pods` then what it printed) holds commands only
    on the prompted lines. Without prompts, a line under a command that looks like its output
    (aligned columns, `Field:   value`) is output, not a step.
    """
    lines = [line for line in _logical_lines(block) if line]
    prompted = any(_PROMPT.match(line) and not line.startswith("# ") for line in lines)
    out: list[str] = []
    after_command = False
    for line in lines:
        if prompted:
            match = _PROMPT.match(line)
            if not match or line.startswith("# "):
                if line.startswith("#"):
                    out.append(line)  # a comment still labels the next command
                continue
            line = line[match.end():].strip()
            if line:
                out.append(line)
            continue
        if after_command and _OUTPUT.search(line) and not _starts_command(line):
            continue
        if line.startswith("$ "):
            line = line[2:]
        out.append(line)
        after_command = not line.startswith("#")
    return out


def _step(number: int, command: str, description: str, section: str) -> Step:
    description = re.sub(r"\s+", " ", description)[:200]
    return Step(
        number=number,
        command=command.strip(),
        description=description,
        section=section,
        placeholders=sorted(set(PLACEHOLDER.findall(command))),
    )


def _summary(meta: dict, sections: list[Section]) -> str:
    explicit = meta.get("summary") or meta.get("description")
    if explicit:
        return str(explicit)[:SUMMARY_CHARS]
    for section in sections:
        for tok in _md.parse(section.text):
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
        steps=_steps(sections),
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
