"""A runbook's steps: the commands its markdown shows, in shell code blocks or as inline code
that starts with a command-line tool, each with the sentence or comment that introduces it and
its `{placeholders}`.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt

from ..models import Section, Step

# The one CommonMark parser (tables on) that runbook parsing and plan structure share.
MARKDOWN = MarkdownIt("commonmark").enable("table")

PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
# Inline code counts as a step only when it starts with a command-line tool.
COMMAND_TOOLS = {
    "kubectl", "helm", "etcdctl", "redis-cli", "psql", "mysql", "curl", "openssl", "dig",
    "nslookup", "journalctl", "systemctl", "crictl", "docker", "df", "du", "promtool", "amtool",
    "aws", "gcloud", "az", "ss", "netstat", "top", "free", "iostat", "ping", "kafka-consumer-groups", "oc",
}
SHELL_LANGS = {"", "bash", "sh", "shell", "console", "zsh", "shell-session"}


def find_steps(sections: list[Section]) -> list[Step]:
    """Every command of every section, numbered in reading order."""
    steps: list[Step] = []
    for section in sections:
        where = " > ".join(section.path) or section.heading
        last_prose = section.heading
        for tok in MARKDOWN.parse(section.text):
            if tok.type == "inline":
                prose = tok.content.strip()
                for child in tok.children or []:
                    if child.type == "code_inline" and child.content.split(" ", 1)[0] in COMMAND_TOOLS:
                        steps.append(_step(len(steps) + 1, child.content, prose, where))
                if prose:
                    last_prose = prose
            elif tok.type == "fence" and tok.info.strip().split(" ")[0].lower() in SHELL_LANGS:
                comment = ""
                for command in block_commands(tok.content):
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
    return bool(_ASSIGNMENT.match(line)) or line.startswith(("#", "$ ")) or line.split(" ", 1)[0] in COMMAND_TOOLS


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


def block_commands(block: str) -> list[str]:
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
