"""A runbook's shape around each step: its section, the phase its headings name, the prose
block that introduces it (alternatives are separate blocks), and whether it is a real step.

A runbook is not a script. "If the crash started with a new revision, roll back: ..." and "If
it is memory related, raise the limit: ..." are two alternatives; "`kubectl get pods` shows
OOMKilled" is a sentence about output, not a step. Steps keep the numbers the library gives
them (`get_runbook` shows the same ones); this module only adds what the executor needs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..library.steps import COMMAND_TOOLS, MARKDOWN, SHELL_LANGS, block_commands
from ..models import Runbook

Phase = str  # diagnose | mitigate | verify | rollback | "" (headings say nothing)

# Innermost heading first; the first heading that matches decides. "Validation" under a
# diagnosis heading is hypothesis checking (diagnose), "Verification" under a solution is verify.
_PHASES = [
    ("rollback", re.compile(r"roll[ -]?back|revert|back[ -]?out|\bundo\b", re.I)),
    ("verify", re.compile(r"verif|confirm|post[ -]?check|success criteria|validat\w* (the )?(fix|resolution)", re.I)),
    ("mitigate", re.compile(r"solution|\bfix|mitigat|remediat|resol|workaround|recover|repair|restor|procedure|"
                            r"\bactions?\b", re.I)),
    ("diagnose", re.compile(r"diagnos|investigat|triage|troubleshoot|identif|inspect|symptom|detect|debug|analy|"
                            r"assess|timeline|hypothes|validat|check|meaning|impact", re.I)),
]
# Words right before inline code that make the sentence an instruction to run it.
_LEAD = re.compile(r"\b(?:run|running|with|using|use|execute|via|try|enter|type)\s*$", re.I)
# What may follow inline code that opens its line and is still an instruction: nothing but
# punctuation, or a condition or purpose ("`kubectl rollout undo ...` if pods go Pending").
_TAIL = re.compile(r"^\s*(\([^()]{0,80}\))?\s*([.,;:!]*\s*$|(if|when|once|after|before|until|unless|to|for)\b|[—–-]\s)",
                   re.I)


@dataclass
class Shape:
    command: str
    section: str
    phase: Phase
    unit: int  # the prose block introducing the step; steps of one block are planned together
    label: str  # that block's first sentence
    mention: bool = False  # inline code inside a sentence: not a step


def phase_of(path: list[str]) -> Phase:
    for heading in reversed(path):
        for phase, pattern in _PHASES:
            if pattern.search(heading):
                return phase
    return ""


def _inline_steps(children) -> list[tuple[str, bool]]:
    """(command, mention) for every command span, judged by the line it sits on."""
    lines: list[list] = [[]]
    for child in children or []:
        if child.type in ("softbreak", "hardbreak"):
            lines.append([])
        else:
            lines[-1].append(child)
    out = []
    for line in lines:
        for i, child in enumerate(line):
            if child.type != "code_inline" or child.content.split(" ", 1)[0] not in COMMAND_TOOLS:
                continue
            before = "".join(c.content for c in line[:i] if c.type in ("text", "code_inline"))
            after = "".join(c.content for c in line[i + 1:] if c.type in ("text", "code_inline"))
            # A step: the span stands alone on its line (or after "Label:"), or an instruction leads
            # to it ("run `x`", "roll back with `x` if ..."). "`kubectl get pods` shows OOMKilled"
            # and "Symptom: `kubectl get pods` shows OOMKilled" are neither.
            alone = not before.strip() or before.rstrip().endswith(":")
            step = (alone and _TAIL.match(after) is not None) or _LEAD.search(before) is not None
            out.append((child.content, not step))
    return out


def _label(text: str) -> str:
    text = re.sub(r"[*_`]+", "", re.sub(r"\s+", " ", text)).strip()
    return text if len(text) <= 120 else text[:119] + "…"


class _Walk:
    """Walks one section's tokens, cutting the commands into blocks.

    Outside lists, prose between two commands starts a new block (labelled by that prose).
    Each bullet item is a block of its own, whatever prose it holds. An ordered list is one
    procedure: its items continue the block the list started with.
    """

    def __init__(self, counter: list[int], heading: str):
        self.counter = counter
        self.heading = heading
        self.lists: list[str] = []
        self.outer: list[list] = []  # blocks around the open bullet items
        self.block = self._new(heading)
        self.last_prose, self.prose_since = heading, False
        self.ordered_fresh = False

    def _new(self, label: str) -> list:
        self.counter[0] += 1
        return [self.counter[0], label, False]  # id, label, has commands

    @property
    def in_bullet(self) -> bool:
        return bool(self.outer)

    def open_list(self, kind: str) -> None:
        if kind == "ordered_list_open" and not self.in_bullet and "ordered_list_open" not in self.lists:
            self.ordered_fresh = True
        self.lists.append(kind)

    def open_item(self) -> None:
        if self.lists and self.lists[-1] == "bullet_list_open":
            self.outer.append(self.block)
            self.block = self._new("")

    def close_item(self) -> None:
        if self.lists and self.lists[-1] == "bullet_list_open":
            item, self.block = self.block, self.outer.pop()
            if not self.in_bullet and item[1]:
                self.last_prose, self.prose_since = item[1], True

    def prose(self, text: str) -> None:
        if self.in_bullet:
            self.block[1] = self.block[1] or text
        elif "ordered_list_open" in self.lists and not self.ordered_fresh:
            self.block[1] = self.block[1] if self.block[2] else text
        else:
            self.ordered_fresh = False
            self.last_prose, self.prose_since = text, True

    def command(self) -> tuple[int, str]:
        if not self.in_bullet and self.prose_since:
            if self.block[2]:
                self.block = self._new(self.last_prose)
            else:
                self.block[1] = self.last_prose
            self.prose_since = False
        self.block[2] = True
        return self.block[0], self.block[1] or self.heading


def shapes(runbook: Runbook) -> list[Shape]:
    """One Shape per library step, in the library's order (the same walk as the markdown parser)."""
    out: list[Shape] = []
    counter = [0]
    for section in runbook.sections:
        where = " > ".join(section.path) or section.heading
        phase = phase_of(section.path or [section.heading])
        walk = _Walk(counter, section.heading)
        tokens = MARKDOWN.parse(section.text)
        for i, tok in enumerate(tokens):
            if tok.type in ("bullet_list_open", "ordered_list_open"):
                walk.open_list(tok.type)
            elif tok.type in ("bullet_list_close", "ordered_list_close"):
                walk.lists.pop()
            elif tok.type == "list_item_open":
                walk.open_item()
            elif tok.type == "list_item_close":
                walk.close_item()
            elif tok.type == "inline":
                if tok.content.strip() and tokens[i - 1].type == "paragraph_open":
                    walk.prose(_label(tok.content))
                for command, mention in _inline_steps(tok.children):
                    if mention:
                        out.append(Shape(command.strip(), where, phase, walk.block[0], walk.block[1], True))
                    else:
                        out.append(Shape(command.strip(), where, phase, *walk.command()))
            elif tok.type == "fence" and tok.info.strip().split(" ")[0].lower() in SHELL_LANGS:
                for command in block_commands(tok.content):
                    if not command.startswith("#"):
                        out.append(Shape(command, where, phase, *walk.command()))
    return out


def align(runbook: Runbook) -> dict[int, Shape]:
    """Step number -> Shape. If the library's steps ever differ from this walk, unmatched steps
    get a shape from their section alone (never a mention, their own block)."""
    found = shapes(runbook)
    if [s.command for s in found] == [s.command for s in runbook.steps]:
        return {step.number: shape for step, shape in zip(runbook.steps, found, strict=True)}
    out, pool = {}, list(found)
    for step in runbook.steps:
        match = next((s for s in pool if s.command == step.command.strip() and s.section == step.section), None)
        if match is not None:
            pool.remove(match)
        else:
            match = Shape(step.command, step.section, phase_of(step.section.split(" > ")), -step.number,
                          step.description)
        out[step.number] = match
    return out
