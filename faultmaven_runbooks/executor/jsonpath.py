"""kubectl's JSONPath dialect (`-o jsonpath=`, `jsonpath-as-json`, custom columns, `--sort-by`).

A small, strict reimplementation of the template language kubectl documents (client-go
util/jsonpath); jsonpath_syntax.py reads a template into nodes, this module evaluates them.
It only walks an object already in memory: there is no function call, no
script, no file and no shell in the language, so a template cannot reach anything else.
Output follows kubectl byte for byte: values of one `{}` joined by spaces, maps and lists as
compact JSON with sorted keys, `jsonpath-as-json` as indented JSON arrays.
"""

from __future__ import annotations

from typing import Any

from .gofmt import go_json, go_text
from .jsonpath_syntax import (
    Action,
    End,
    Field,
    Filter,
    JsonPathError,
    Literal,
    Node,
    Range,
    Recursive,
    Slice,
    Template,
    Union,
    Wildcard,
    parse,
    relaxed,
)

__all__ = ["JsonPathError", "find", "parse", "relaxed", "render"]
MAX_RESULTS = 100_000  # `..` over a huge list: stop instead of exhausting memory


def _walk(values: list[Any], nodes: Action) -> list[Any]:
    for node in nodes:
        values = _step(values, node)
        if len(values) > MAX_RESULTS:
            raise JsonPathError(f"the template selects more than {MAX_RESULTS} values")
    return values


def _step(values: list[Any], node: Node) -> list[Any]:
    out: list[Any] = []
    if isinstance(node, Field):
        return [v[node.name] for v in values if isinstance(v, dict) and v.get(node.name) is not None]
    if isinstance(node, Wildcard):
        for v in values:
            if isinstance(v, dict):
                out += [v[k] for k in sorted(v) if v[k] is not None]
            elif isinstance(v, list):
                out += [x for x in v if x is not None]
        return out
    if isinstance(node, Recursive):
        for v in values:
            _descend(v, out)
        return out
    if isinstance(node, Slice):
        return _slice(values, node)
    if isinstance(node, Union):
        for branch in node.branches:
            out += _walk(values, branch)
        return out
    if isinstance(node, Filter):
        return _filter(values, node)
    if isinstance(node, Literal):
        return [node.value]
    raise JsonPathError(f"unexpected {type(node).__name__} here")


def _descend(value: Any, out: list[Any]) -> None:
    out.append(value)
    if len(out) > MAX_RESULTS:
        raise JsonPathError(f"the template selects more than {MAX_RESULTS} values")
    children = [value[k] for k in sorted(value)] if isinstance(value, dict) else \
        value if isinstance(value, list) else []
    for child in children:
        if child is not None:
            _descend(child, out)


def _slice(values: list[Any], node: Slice) -> list[Any]:
    out: list[Any] = []
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


def _filter(values: list[Any], node: Filter) -> list[Any]:
    out: list[Any] = []
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


def _compare(left: Any, op: str, right: Any) -> bool:
    numbers = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (left, right))
    if not numbers and type(left) is not type(right):
        raise JsonPathError(f"incompatible types for comparison: {_go_type(left)} and {_go_type(right)}")
    if op in ("==", "!="):
        return (left == right) == (op == "==")
    if isinstance(left, (dict, list, bool)):
        raise JsonPathError(f"invalid type for comparison: {_go_type(left)}")
    return {"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}[op]


def _go_type(value: object) -> str:
    return {dict: "map[string]interface {}", list: "[]interface {}", str: "string", bool: "bool",
            int: "int64", float: "float64"}.get(type(value), "interface {}")


def find(template: Template, data: Any) -> list[list[Any]]:
    """Each `{...}` group's values, and text pieces as one-value groups, in order."""
    groups: list[list[Any]] = []
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


def render(template: str, data: Any, as_json: bool = False) -> str:
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
