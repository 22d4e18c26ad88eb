"""A runbook step + context -> a typed Kubernetes operation, a set-up binding, a manual step, or a refusal.

No string from a runbook or a caller ever reaches a shell: the line is split into words by a
strict lexer (shellwords.py), every placeholder and `$VARIABLE` is filled per word with a
validated value (so a value can never become a flag or a second word), the kubectl (or oc)
grammar turns the words into an `Operation`, and what follows a pipe becomes a typed filter
the executor applies in-process. A set-up line (`export NS="$(kubectl get ... | awk ...)"`,
`NS=<namespace>`, `oc project NAME`) binds a context value for the later steps. A `$(kubectl get
...)` inside an argument is the same binding owned by its step: the read runs first, and its one
validated value fills the argument (bindings.py).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import Literal

from . import filters, grammar, oc
from .names import key_for
from .operation import Manual, Operation, Refused
from .placeholders import PLACEHOLDER, PlaceholderError, sample_value, validate
from .shellwords import ALERT_LABEL, HOLE, Line, Word, lex, plain

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")
# an output template (`-o jsonpath={.x}`, `--sort-by={.x}`): `{name}` inside it is jsonpath, not a placeholder
_TEMPLATE_WORD = re.compile(r"^(-o=?|--output=|--sort-by=|--template=)?(jsonpath|custom-columns|go-template|template|"
                            r"\{[.@\[]|\{range )")
_TEMPLATE_FLAGS = {"-o", "--output", "--sort-by", "--template"}


@dataclass
class Binding:
    """A variable a set-up line gives the later steps."""

    var: str  # as the runbook writes it: CDI_NAMESPACE
    key: str  # the context key: cdi_namespace
    source: Literal["read", "value", "input"]  # from a read, a literal, or asked of the caller
    value: str | None = None
    read: Operation | None = None  # an inline `$(...)`: the read its step runs first (a set-up line's is the step's)
    needs: list[str] = field(default_factory=list)  # context values that inline read itself lacks


@dataclass
class ParsedStep:
    command: str
    classification: Literal["read", "change", "setup", "manual", "refused"]
    operation: Operation | None = None
    reason: str | None = None
    missing: list[str] = field(default_factory=list)
    binds: list[Binding] = field(default_factory=list)


# what the word before an inline `$(...)` says it fills: `-n $(...)` a namespace
_SHORT_FLAGS = {"n": "namespace", "l": "selector", "c": "container"}


def _position(previous: str, prefix: str) -> str:
    """The context key an inline substitution fills, from what precedes it: `-n` -> namespace,
    `get storageclass` -> storage_class, `pod/` -> pod_name, `--replicas=` -> replicas."""
    if prefix.startswith("-") and prefix.endswith("="):
        what = prefix.lstrip("-")[:-1]
    elif prefix.endswith("/"):
        what = prefix[:-1]
    elif prefix:
        what = "value"
    else:
        what = previous.lstrip("-") or "value"
    return key_for(_SHORT_FLAGS.get(what, what))


class _Filler:
    """Fills words with validated context values; missing ones get a sample and are recorded.

    `owner` (`step3_`) lets `$(...)` in an argument become a binding the step owns, keyed
    `step3_<what it fills>`; without one (filters, set-up lines, inside another substitution)
    a substitution stays manual.
    """

    def __init__(self, context: dict, default_namespace: str | None = None, owner: str | None = None,
                 nested: bool = False):
        self.context = context
        self.default_namespace = default_namespace
        self.owner = owner
        self.nested = nested
        self.missing: set[str] = set()
        self.substituted = False  # an argument is another command's output: said after the verb's own reason
        self.inline: list[Binding] = []
        self.inline_error: Manual | Refused | None = None  # also said after the verb's own reason

    def value(self, key: str) -> str:
        if self.context.get(key) in (None, ""):
            self.missing.add(key)
            return sample_value(key)
        return validate(key, self.context[key])

    def text(self, text: str, braces: bool) -> str:
        text = HOLE.sub(lambda m: self.value(key_for(m.group(1))), text)
        text = ALERT_LABEL.sub(lambda m: self.value(key_for(m.group(1))), text)
        return PLACEHOLDER.sub(lambda m: self.value(m.group(1)), text) if braces else text

    def word(self, word: Word, braces: bool = True, previous: str = "") -> str:
        out: list[str] = []
        for part in word:
            if part.kind == "var":
                out.append(self.value(key_for(part.value)))
            elif part.kind == "subst" and self.owner is not None and part.line is not None:
                out.append(self._inline(part.value, part.line, _position(previous, "".join(out))))
            elif part.kind == "subst":
                self.substituted = True
                out.append("example")
            else:
                out.append(self.text(part.value, braces))
        return "".join(out)

    def _inline(self, written: str, line: Line, what: str) -> str:
        """`$(kubectl get ...)` in an argument: its read becomes a binding of this step, and the
        argument is that binding's (validated) value, or a sample until the read has run."""
        key, n = f"{self.owner}{what}", 1
        while key in {b.key for b in self.inline}:  # two substitutions in one step: step3_pod_name_2
            n += 1
            key = f"{self.owner}{what}_{n}"
        shown = render(written, self.context)[:160]
        inner = _Filler(self.context, self.default_namespace, nested=True)
        try:
            op = _pipeline(line.commands, inner)
            if op.change:
                # a substitution runs when the line is read, before anyone could approve it
                raise Manual(f"it is a change ({op.verb}); only a read may fill an argument")
        except (Manual, Refused) as exc:
            self.inline_error = self.inline_error or type(exc)(
                f"runs a second command inside an argument ({shown}) that cannot fill it: {exc}")
            return sample_value(key)
        have = self.context.get(key)
        self.inline.append(Binding(shown, key, "read", None if have in (None, "") else validate(key, have),
                                   read=op, needs=sorted(inner.missing)))
        self.missing |= inner.missing
        return self.value(key)

    def command_words(self, words: list[Word]) -> list[str]:
        out, previous = [], ""
        for word in words:
            raw = "".join(p.value for p in word)
            out.append(self.word(word, not (_TEMPLATE_WORD.match(raw) or previous in _TEMPLATE_FLAGS), previous))
            previous = raw
        return out


def render(template: str, context: dict) -> str:
    """The command as shown to people: validated values in place, the rest as written."""

    def fill(key: str, original: str) -> str:
        try:
            return validate(key, context[key]) if context.get(key) not in (None, "") else original
        except PlaceholderError:
            return original

    text = PLACEHOLDER.sub(lambda m: fill(m.group(1), m.group(0)), template)
    text = HOLE.sub(lambda m: fill(key_for(m.group(1)), m.group(0)), text)
    text = ALERT_LABEL.sub(lambda m: fill(key_for(m.group(1)), m.group(0)), text)
    return _VAR.sub(lambda m: fill(key_for(m.group(1) or m.group(2)), m.group(0)), text)


def _pipeline(stages: list[list[Word]], filler: _Filler) -> Operation:
    first = stages[0]
    tool = plain(first[0]) if first else None
    if tool not in ("kubectl", "oc"):
        shown = tool if tool is not None else "".join(p.value for p in first[0])
        raise Manual(f"`{shown[:40]}` is not kubectl; the executor only runs typed Kubernetes API calls, so a "
                     "human runs this on the right host")
    tokens = filler.command_words(first[1:])
    filler.owner = None  # a substitution in a filter's argument stays manual
    if tool == "oc":
        mapped = oc.to_kubectl(tokens)
        if isinstance(mapped, tuple):
            raise Manual("oc project switches the namespace; it is a set-up line of its own")
        tokens = mapped
    op = grammar.parse_kubectl(tokens, filler.context.get("namespace") or filler.default_namespace, tool)
    if filler.substituted and filler.nested:
        raise Manual("nests one command substitution inside another; put the inner one on a set-up line of "
                     "its own (VAR=$(kubectl get ...))")
    if filler.substituted:
        raise Manual("runs a second command inside an argument ($(...)); put it on a set-up line of its own "
                     "(VAR=$(kubectl get ...)) so the executor can run it as a read")
    if filler.inline_error is not None:
        raise filler.inline_error
    specs = []
    for stage in stages[1:]:
        if op.change:
            raise Manual(f"pipes the output of a change ({op.verb}) into another command")
        spec = filters.parse(stage, lambda w, braces: filler.word(w, braces))
        if filler.substituted:
            raise Manual("runs a second command inside a filter's argument ($(...))")
        spec["shown"] = shlex.join(filler.word(w, braces=False) for w in stage)[:120]
        specs.append(spec)
    if specs:
        op.options["filters"] = specs
    return op


def _setup(line: Line, filler: _Filler) -> tuple[Operation | None, list[Binding]]:
    op, binds = None, []
    for var, word in line.assignments:
        key = key_for(var)
        parts = [p for p in word if not (p.kind == "text" and p.value == "")]
        if len(parts) == 1 and (inner := parts[0].line) is not None:  # VAR=$(command): only a subst has a line
            if len(line.assignments) > 1:
                raise Manual("binds several variables from commands in one line; use one line per variable")
            op = _pipeline(inner.commands, filler)
            if op.change:
                raise Refused(f"binds {var} from a change ({op.verb}); only reads bind values")
            binds.append(Binding(var, key, "read"))
        elif all(p.kind == "text" for p in parts):
            text = "".join(p.value for p in parts)
            hole = HOLE.fullmatch(text) or ALERT_LABEL.fullmatch(text)
            before = set(filler.missing)
            filled = filler.text(text, braces=True)
            if hole or not text:
                binds.append(Binding(var, key, "input"))  # `NS=<namespace>`: the caller gives it
                filler.value(key)
            elif filler.missing - before:
                binds.append(Binding(var, key, "input"))  # `NS=openshift-<name>-operator` waits for <name>
            else:
                binds.append(Binding(var, key, "value", validate(key, filled)))
        else:
            raise Manual(f"builds {var} from other variables or text and commands; the executor binds a variable "
                         "from one read, one value, or the caller's context")
    return op, binds


def _oc_project(line: Line, filler: _Filler) -> list[Binding] | None:
    words = line.commands[0] if len(line.commands) == 1 else []
    if not words or plain(words[0]) != "oc" or any(p.kind == "subst" for w in words for p in w):
        return None
    try:
        mapped = oc.to_kubectl(filler.command_words(words[1:]))
    except (Manual, Refused):
        return None
    if isinstance(mapped, tuple):
        return [Binding("project", "namespace", "value", validate("namespace", mapped[1]))]
    return None


def parse_step(template: str, context: dict, default_namespace: str | None = None,
               step: int | None = None) -> ParsedStep:
    """Parse one runbook command line with the call's (flattened) context; `step` names the
    bindings its inline substitutions own (`step3_storage_class`)."""
    template = template.strip()
    try:
        line = lex(template)
    except Manual as exc:
        return ParsedStep(render(template, context), "manual", reason=str(exc))
    except Refused as exc:
        return ParsedStep(template[:200], "refused", reason=str(exc))
    shown = render(template, context)
    filler = _Filler(context, default_namespace)
    try:
        if line.assignments and not line.commands:
            op, binds = _setup(line, filler)
            return ParsedStep(shown, "read" if op else "setup", op, missing=sorted(filler.missing), binds=binds)
        if line.assignments:
            var = line.assignments[0][0]
            raise Manual(f"the line sets {var}=... for the command that follows, so it is not kubectl itself; "
                         "the executor runs kubectl with the server's settings only")
        if not line.commands:
            return ParsedStep(shown, "manual", reason="empty command")
        project = _oc_project(line, filler)
        if project is not None:
            return ParsedStep(shown, "setup", binds=project)
        filler.owner = f"step{step}_" if step is not None else "inline_"
        op = _pipeline(line.commands, filler)
    except PlaceholderError as exc:
        return ParsedStep(shown, "refused", reason=str(exc))
    except (Manual, Refused) as exc:
        # a step that does not run binds nothing of its own either
        missing = sorted(filler.missing - {b.key for b in filler.inline})
        return ParsedStep(shown, "manual" if isinstance(exc, Manual) else "refused", reason=str(exc), missing=missing)
    return ParsedStep(shown, "change" if op.change else "read", op, missing=sorted(filler.missing),
                      binds=filler.inline)
