"""kubectl's JSONPath dialect (`-o jsonpath=`, `jsonpath-as-json`, custom columns, `--sort-by`).

A small, strict reimplementation of the template language kubectl documents (client-go
util/jsonpath): text outside `{}`, `.field` (escaped dots and slashes allowed), `..field`,
`[n]`, `[a:b:c]`, `[*]`, `['key']`, unions `[a,b]`, filters `[?(@.x == "y")]`, `range`/`end`,
and quoted strings. It only walks an object already in memory: there is no function call, no
script, no file and no shell in the language, so a template cannot reach anything else.
Output follows kubectl byte for byte: values of one `{}` joined by spaces, maps and lists as
compact JSON with sorted keys, `jsonpath-as-json` as indented JSON arrays.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .gofmt import go_json, go_text
from .operation import FilterError

MAX_TEMPLATE = 2000
MAX_RESULTS = 100_000  # `..` over a huge list: stop instead of exhausting memory


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
    branches: tuple


@dataclass(frozen=True)
class Filter:
    left: tuple
    op: str
    right: tuple


@dataclass(frozen=True)
class Literal:
    value: object


@dataclass(frozen=True)
class Range:
    path: tuple


class End:
    pass


_TERMINATORS = set(" \t\n.,[]$@{}")
_SLICE = re.compile(r"^(-?\d*)(:-?\d*)?(:-?\d*)?$")
_DICT_KEY = re.compile(r"^'([^']*)'$")
_FILTER = re.compile(r"^([^!<>=]+)([!<>=]+)(.+?)$")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_GO_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "a": "\a", "b": "\b", "f": "\f",
               "v": "\v", "0": "\0"}


def _unquote(body: str) -> str:
    out, i = [], 0
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

    def action(self, end: str | None = "}") -> tuple:
        """The nodes of one `{...}` (or of a whole filter side when `end` is None)."""
        nodes: list = []
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
            elif end is None and _NUMBER.match(t, self.i):
                m = _NUMBER.match(t, self.i)
                self.i = m.end()
                nodes.append(Literal(float(m.group(0)) if m.group(1) else int(m.group(0))))
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

    def _bracket(self):
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


def _parse_action(text: str) -> tuple:
    return _Parser(text).action(end=None)


def _parse_side(text: str) -> tuple:
    return _Parser(text.strip()).action(end=None)


def parse(template: str) -> list:
    """Template -> a list of str (text) and tuples (the nodes of one `{...}`)."""
    if len(template) > MAX_TEMPLATE:
        raise JsonPathError(f"the template is {len(template)} characters; the limit is {MAX_TEMPLATE}")
    out: list = []
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


# -- evaluation ---------------------------------------------------------------------------------
def _walk(values: list, nodes: tuple) -> list:
    for node in nodes:
        values = _step(values, node)
        if len(values) > MAX_RESULTS:
            raise JsonPathError(f"the template selects more than {MAX_RESULTS} values")
    return values


def _step(values: list, node) -> list:
    if isinstance(node, Field):
        return [v[node.name] for v in values if isinstance(v, dict) and v.get(node.name) is not None]
    if isinstance(node, Wildcard):
        out = []
        for v in values:
            if isinstance(v, dict):
                out += [v[k] for k in sorted(v) if v[k] is not None]
            elif isinstance(v, list):
                out += [x for x in v if x is not None]
        return out
    if isinstance(node, Recursive):
        out = []
        for v in values:
            _descend(v, out)
        return out
    if isinstance(node, Slice):
        return _slice(values, node)
    if isinstance(node, Union):
        out = []
        for branch in node.branches:
            out += _walk(values, branch)
        return out
    if isinstance(node, Filter):
        return _filter(values, node)
    if isinstance(node, Literal):
        return [node.value]
    raise JsonPathError(f"unexpected {type(node).__name__} here")


def _descend(value, out: list) -> None:
    out.append(value)
    if len(out) > MAX_RESULTS:
        raise JsonPathError(f"the template selects more than {MAX_RESULTS} values")
    children = [value[k] for k in sorted(value)] if isinstance(value, dict) else \
        value if isinstance(value, list) else []
    for child in children:
        if child is not None:
            _descend(child, out)


def _slice(values: list, node: Slice) -> list:
    out = []
    for v in values:
        if v is None:
            continue
        if not isinstance(v, list):
            raise JsonPathError(f"{_go_type(v)} is not array or slice")
        n = len(v)
        start = node.start or 0
        start = start + n if start < 0 else start
        stop = n if node.stop is None else node.stop
        if stop < 0 or (stop == 0 and node.derived_stop):
            stop += n
        if stop == start:
            return out
        if start >= n or start < 0:
            raise JsonPathError(f"array index out of bounds: index {start}, length {n}")
        if stop > n or stop < 0:
            raise JsonPathError(f"array index out of bounds: index {stop - 1}, length {n}")
        if start > stop:
            raise JsonPathError(f"starting index {start} is greater than ending index {stop}")
        step = node.step if node.step is not None else 1
        if step <= 0:
            raise JsonPathError("step must be > 0")
        out += v[start:stop:step]
    return out


def _filter(values: list, node: Filter) -> list:
    out = []
    for v in values:
        if v is None:
            continue
        if not isinstance(v, list):
            raise JsonPathError(f"{_go_type(v)} is not array or slice and cannot be filtered")
        for item in v:
            lefts = _walk([item], node.left)
            if node.op == "exists":
                if lefts:
                    out.append(item)
                continue
            if not lefts:
                continue
            rights = _walk([item], node.right)
            if len(lefts) > 1 or len(rights) > 1:
                raise JsonPathError("can only compare one element at a time")
            if rights and _compare(lefts[0], node.op, rights[0]):
                out.append(item)
    return out


def _compare(left, op: str, right) -> bool:
    numbers = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (left, right))
    if not numbers and type(left) is not type(right):
        raise JsonPathError(f"incompatible types for comparison: {_go_type(left)} and {_go_type(right)}")
    if op in ("==", "!="):
        return (left == right) == (op == "==")
    if isinstance(left, (dict, list, bool)):
        raise JsonPathError(f"invalid type for comparison: {_go_type(left)}")
    return {"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}[op]


def _go_type(value) -> str:
    return {dict: "map[string]interface {}", list: "[]interface {}", str: "string", bool: "bool",
            int: "int64", float: "float64"}.get(type(value), "interface {}")


def find(template: list, data) -> list[list]:
    """Each `{...}` group's values, and text pieces as one-value groups, in order."""
    groups: list[list] = []
    i = 0
    while i < len(template):
        piece = template[i]
        i += 1
        if isinstance(piece, str):
            groups.append([piece])
            continue
        if piece and isinstance(piece[0], Range):
            depth, body_end = 1, i
            while body_end < len(template):
                p = template[body_end]
                if isinstance(p, tuple) and p and isinstance(p[0], Range):
                    depth += 1
                elif isinstance(p, tuple) and p and isinstance(p[-1], End):
                    depth -= 1
                    if depth == 0:
                        break
                body_end += 1
            body = template[i:body_end]
            for item in _walk([data], piece[0].path):
                groups += find(body, item)
            i = body_end + 1
            continue
        if piece and isinstance(piece[-1], End):
            raise JsonPathError("not in range, nothing to end")
        groups.append(_walk([data], piece))
    return groups


def render(template: str, data, as_json: bool = False) -> str:
    """What `kubectl get -o jsonpath=TEMPLATE` (or `jsonpath-as-json=`) prints for `data`."""
    parsed = parse(template)
    out: list[str] = []
    for group in find(parsed, data):
        if as_json:
            out.append(go_json(group, indent=True) + "\n")
            continue
        texts = [go_json(v) if isinstance(v, (dict, list)) else go_text(v) for v in group]
        out.append(" ".join(texts))
    return "".join(out)
