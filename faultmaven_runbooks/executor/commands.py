"""A runbook step + context -> a typed Kubernetes operation, a manual step, or a refusal.

No string from a runbook or a caller ever reaches a shell: the command line is split into
tokens (shlex, no expansion), placeholders are filled per token with validated values, and the
kubectl grammar below turns the tokens into an `Operation` the kube module runs through the
official client. Anything the grammar does not know is a manual step with the reason.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Literal

from . import grammar
from .operation import Manual, Operation, Refused
from .placeholders import PLACEHOLDER, PlaceholderError, fill, validate

MAX_COMMAND = 1000


@dataclass
class ParsedStep:
    command: str
    classification: Literal["read", "change", "manual", "refused"]
    operation: Operation | None = None
    reason: str | None = None
    missing: list[str] = field(default_factory=list)


def _scan_shell(text: str) -> None:
    """Refuse or hand over command lines that only a shell could run."""
    if len(text) > MAX_COMMAND:
        raise Refused(f"the command is {len(text)} characters; the limit is {MAX_COMMAND} (over-long input)")
    if any(ord(c) < 32 and c != "\t" or ord(c) == 127 for c in text):
        # Newlines and NUL smuggle a second command or cut a string short in C-based tools.
        raise Refused("the command contains control characters (newline, NUL); one step is one command line")
    if not text.isascii():
        # Look-alike characters (fullwidth '－－', Cyrillic 'а') dodge flag and name checks.
        raise Refused("the command contains non-ASCII characters (possible look-alike letters or dashes)")
    quote = ""
    for i, c in enumerate(text):
        if quote == "'":
            quote = "" if c == "'" else quote
            continue
        if c in "`$" or (c == "\\" and quote == ""):
            # Command substitution and expansion run code before kubectl even starts.
            raise Manual(f"uses shell expansion ({c!r}); the executor runs no shell")
        if quote == '"':
            quote = "" if c == '"' else quote
            continue
        if c in "'\"":
            quote = c
        elif c in "|;&<>":
            what = {"|": "a pipe", ";": "a command separator", "&": "a background or && operator",
                    "<": "a redirection or <placeholder>", ">": "a redirection"}[c]
            raise Manual(f"uses {what} ({c!r}); only single kubectl commands run as typed operations")
        elif c in "()*?~":
            raise Manual(f"uses shell syntax ({c!r}); the executor runs no shell")
    if quote:
        raise Manual("has an unterminated quote")


def _render(template: str, context: dict) -> str:
    """The command as shown to people: validated values in place, invalid ones left as {name}."""

    def repl(m):
        name = m.group(1)
        try:
            return validate(name, context[name]) if context.get(name) not in (None, "") else m.group(0)
        except PlaceholderError:
            return m.group(0)

    return PLACEHOLDER.sub(repl, template)


def parse_step(template: str, context: dict, default_namespace: str | None = None) -> ParsedStep:
    """Parse one runbook command line with the call's (flattened) context."""
    template = template.strip()
    try:
        _scan_shell(template)
        raw_tokens = shlex.split(template, comments=True, posix=True)
    except Manual as exc:
        return ParsedStep(_render(template, context), "manual", reason=str(exc))
    except Refused as exc:
        return ParsedStep(template[:200], "refused", reason=str(exc))
    except ValueError as exc:  # shlex: unbalanced quotes
        return ParsedStep(_render(template, context), "manual", reason=f"cannot be split into arguments ({exc})")
    shown = _render(template, context)
    missing: set[str] = set()
    try:
        tokens = [fill(tok, context, missing) for tok in raw_tokens]
    except PlaceholderError as exc:
        return ParsedStep(shown, "refused", reason=str(exc))
    if not tokens:
        return ParsedStep(shown, "manual", reason="empty command")
    if tokens[0] != "kubectl":
        return ParsedStep(shown, "manual", reason=f"`{tokens[0][:40]}` is not kubectl; the executor only runs "
                          "typed Kubernetes API calls, so a human runs this on the right host")
    try:
        op = grammar.parse_kubectl(tokens[1:], context.get("namespace") or default_namespace)
    except Manual as exc:
        return ParsedStep(shown, "manual", reason=str(exc), missing=sorted(missing))
    except Refused as exc:
        return ParsedStep(shown, "refused", reason=str(exc), missing=sorted(missing))
    return ParsedStep(shown, "change" if op.change else "read", op, missing=sorted(missing))
