"""kubectl's JSONPath templates read into nodes (`-o jsonpath=`, custom columns, `--sort-by`).

The grammar of client-go util/jsonpath: text outside `{}`, `.field` (escaped dots and slashes
allowed), `..field`, `[n]`, `[a:b:c]`, `[*]`, `['key']`, unions `[a,b]`, filters
`[?(@.x == "y")]`, `range`/`end`, and quoted strings. jsonpath.py evaluates what this reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .operation import FilterError

MAX_TEMPLATE = 2000


class JsonPathError(FilterError):
    """The template cannot be parsed or evaluated (kubectl would fail the same way)."""


@dataclass(frozen=True)
class Field:
    name: str


@dataclass(frozen=True)
class Recursive:
    pass


@dataclass(frozen=True)
class Wildcard:
    pass


@dataclass(frozen=True)
class Slice:
    start: int | None
    stop: int | None
    step: int | None
    derived_stop: bool = False


@dataclass(frozen=True)
class Union:
    branches: tuple[Action, ...]


@dataclass(frozen=True)
class Filter:
    left: Action
    op: str  # a comparison, or "exists"
    right: Action


@dataclass(frozen=True)
class Literal:
    value: object


@dataclass(frozen=True)
class Range:
    path: Action


class End:
    pass


Node = Field | Recursive | Wildcard | Slice | Union | Filter | Literal | Range | End
Action = tuple[Node, ...]  # the nodes of one `{...}`
Template = list[str | Action]  # text pieces and actions, in order


_TERMINATORS = set(" \t\n.,[]$@{}")
_SLICE = re.compile(r"^(-?\d*)(:-?\d*)?(:-?\d*)?$")
_DICT_KEY = re.compile(r"^'([^']*)'$")
_FILTER = re.compile(r"^([^!<>=]+)([!<>=]+)(.+?)$")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_GO_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "a": "\a", "b": "\b", "f": "\f",
               "v": "\v", "0": "\0"}


def _unquote(body: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt not in _GO_ESCAPES:
                raise JsonPathError(f"invalid escape \\{nxt} in a quoted string")
            out.append(_GO_ESCAPES[nxt])
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.i = 0

    def action(self, end: str | None = "}") -> Action:
        """The nodes of one `{...}` (or of a whole filter side when `end` is None)."""
        nodes: list[Node] = []
        t = self.text
        while self.i < len(t):
            c = t[self.i]
            if end and c == end:
                return tuple(nodes)
            if c in " \t":
                self.i += 1
            elif c in "@$":
                self.i += 1  # the current object: evaluation already starts there
            elif c == ".":
                if t.startswith("..", self.i):
                    nodes.append(Recursive())
                    self.i += 1
                    continue
                nodes.append(self._field())
            elif c == "[":
                nodes.append(self._bracket())
            elif c in "\"'":
                nodes.append(Literal(self._quoted(c)))
            elif t.startswith("range", self.i) and (self.i + 5 >= len(t) or t[self.i + 5] in " \t}"):
                self.i += 5
                path = self.action(end)
                return (Range(path),)
            elif t.startswith("end", self.i) and (self.i + 3 >= len(t) or t[self.i + 3] in " \t}"):
                self.i += 3
                nodes.append(End())
            elif end is None and (number := _NUMBER.match(t, self.i)):
                self.i = number.end()
                nodes.append(Literal(float(number.group(0)) if number.group(1) else int(number.group(0))))
            elif end is None and re.match(r"(true|false)\b", t[self.i:]):
                word = "true" if t.startswith("true", self.i) else "false"
                self.i += len(word)
                nodes.append(Literal(word == "true"))
            elif c == "*":
                self.i += 1
                nodes.append(Wildcard())
            else:
                raise JsonPathError(f"unrecognized character in action: {c!r} at {self.i}")
        if end:
            raise JsonPathError("unclosed action: a '{' has no matching '}'")
        return tuple(nodes)

    def _field(self) -> Field | Wildcard:
        self.i += 1
        start, t = self.i, self.text
        while self.i < len(t) and t[self.i] not in _TERMINATORS:
            self.i += 2 if t[self.i] == "\\" else 1
        name = t[start:self.i].replace("\\", "")
        return Wildcard() if name == "*" else Field(name)

    def _quoted(self, quote: str) -> str:
        t, start = self.text, self.i + 1
        i = start
        while i < len(t) and t[i] != quote:
            i += 2 if t[i] == "\\" else 1
        if i >= len(t):
            raise JsonPathError("unterminated quoted string")
        self.i = i + 1
        return _unquote(t[start:i])

    def _bracket(self) -> Filter | Union | Slice:
        t = self.text
        if t.startswith("[?(", self.i):
            return self._filter()
        end = t.find("]", self.i)
        if end < 0:
            raise JsonPathError("unterminated array: '[' without ']'")
        body = t[self.i + 1:end]
        self.i = end + 1
        if body == "*":
            body = ":"
        if "," in body:
            return Union(tuple(_parse_action(f"[{part.strip()}]") for part in body.split(",")))
        key = _DICT_KEY.match(body)
        if key:
            return Union((_parse_action("." + key.group(1)),))
        m = _SLICE.match(body)
        if m is None:
            raise JsonPathError(f"invalid array index {body!r}")
        start = int(m.group(1)) if m.group(1) not in ("", "-") else None
        if m.group(2) is None:
            # `[n]` is `[n:n+1]`; `[]` is `[0:1]` (kubectl reads an empty index as 0)
            return Slice(start, (start or 0) + 1, None, derived_stop=True)
        stop = int(m.group(2)[1:]) if m.group(2)[1:] not in ("", "-") else None
        step = int(m.group(3)[1:]) if m.group(3) and m.group(3)[1:] not in ("", "-") else None
        return Slice(start, stop, step)

    def _filter(self) -> Filter:
        t = self.text
        i, quote, opened, closed = self.i + 3, "", False, False
        while True:
            if i >= len(t):
                raise JsonPathError("unterminated filter")
            c = t[i]
            i += 1
            if c in "\"'":
                if not opened:
                    opened, quote = True, c
                elif c == quote and t[i - 2] != "\\":
                    closed = True
            elif c == ")" and opened == closed:
                break
        if i >= len(t) or t[i] != "]":
            raise JsonPathError("unclosed filter: expected ']'")
        body = t[self.i + 3:i - 1]
        self.i = i + 1
        m = _FILTER.match(body)
        if m is None:
            return Filter(_parse_side(body), "exists", ())
        op = m.group(2)
        if op not in ("==", "!=", "<", ">", "<=", ">="):
            raise JsonPathError(f"unrecognized filter operator {op}")
        return Filter(_parse_side(m.group(1)), op, _parse_side(m.group(3)))


def _parse_action(text: str) -> Action:
    return _Parser(text).action(end=None)


def _parse_side(text: str) -> Action:
    return _Parser(text.strip()).action(end=None)


def parse(template: str) -> Template:
    """Template -> a list of str (text) and tuples (the nodes of one `{...}`)."""
    if len(template) > MAX_TEMPLATE:
        raise JsonPathError(f"the template is {len(template)} characters; the limit is {MAX_TEMPLATE}")
    out: Template = []
    i = 0
    while i < len(template):
        j = template.find("{", i)
        if j < 0:
            out.append(template[i:])
            break
        if j > i:
            out.append(template[i:j])
        p = _Parser(template)
        p.i = j + 1
        out.append(p.action("}"))
        i = p.i + 1
    return out


def relaxed(expr: str) -> str:
    """kubectl's relaxed form for custom columns and --sort-by: `.a.b`, `a.b` and `{.a.b}` alike."""
    expr = expr.strip()
    if expr.startswith("{") and expr.endswith("}"):
        expr = expr[1:-1]
    if expr and not expr.startswith(("." , "[")):
        expr = "." + expr
    return "{" + expr + "}"
