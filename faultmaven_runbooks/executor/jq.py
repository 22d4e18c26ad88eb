"""`jq` field selection, in-process: paths (`.a.b`, `."k.x"`, `.["k"]`, `.[0]`, `.[]`, `?`), pipes,
`select(...)` with comparisons, `and`/`or`/`not`, `length` and `keys`, and the options -r, -c,
-S, -M, -e.

Real jq is a programming language: `env`/`$ENV` read the server's environment (its cluster
token among them), `input_filename`, `import` and `include` read files, `limit(range(...))`
never ends. None of that parses here: a program outside this subset is a manual step.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .operation import FilterError, FilterSpec, Manual, Refused

MAX_PROGRAM = 500
MAX_OUTPUTS = 10_000
_TOKEN = re.compile(r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<num>-?\d+(?:\.\d+)?)|(?P<op>==|!=|<=|>=|[<>|.\[\]()?,])|'
                    r'(?P<word>[A-Za-z_][A-Za-z0-9_]*)|(?P<bad>\S))')
_BUILTINS = {"select", "length", "keys", "not", "and", "or", "true", "false", "null"}


# A parsed program: ("field", "name"), ("then", node, node), ("cmp", "==", node, node), ...
Node = tuple[Any, ...]


class JqError(FilterError):
    """The program failed on this input, as jq would (the message says why)."""


def parse_args(args: list[str]) -> FilterSpec:
    spec: FilterSpec = {"filter": "jq", "raw": False, "compact": False, "sort": False}
    program = None
    for a in args:
        if a.startswith("-") and program is None or a.startswith("--"):
            flags = {"-r": "raw", "--raw-output": "raw", "-c": "compact", "--compact-output": "compact",
                     "-S": "sort", "--sort-keys": "sort", "-M": None, "--monochrome-output": None, "-e": None}
            letters = [f"-{c}" for c in a[1:]] if not a.startswith("--") else [a]
            for flag in letters:
                if flag not in flags:
                    # --arg/--argjson bind variables, -f/--from-file and --slurpfile read files, -n ignores input
                    raise Manual(f"jq option {a[:20]} is not supported by the executor (only -r, -c, -S, -M, -e)")
                if (setting := flags[flag]) is not None:
                    spec[setting] = True
            continue
        if program is not None:
            raise Refused(f"jq reads the file {a[:40]}; the executor's jq only filters the output of the command "
                          "before the pipe")
        program = a
    if program is None:
        raise Manual("jq names no program")
    spec["program"] = program
    _Parser(program).parse()  # refuse what is beyond field selection while planning
    return spec


class _Parser:
    def __init__(self, text: str):
        if len(text) > MAX_PROGRAM:
            raise Manual(f"the jq program is {len(text)} characters; the executor reads up to {MAX_PROGRAM}")
        self.tokens: list[tuple[str, str]] = []
        for m in _TOKEN.finditer(text):
            kind = m.lastgroup
            if kind is None or kind == "bad":
                raise Manual(f"the jq program uses {m.group(0).strip()!r}, which is beyond field selection "
                             "(paths, select, length, keys)")
            self.tokens.append((kind, m.group(kind)))
        self.i = 0

    def peek(self) -> str | None:
        return self.tokens[self.i][1] if self.i < len(self.tokens) else None

    def take(self, want: str | None = None) -> tuple[str, str]:
        if self.i >= len(self.tokens):
            raise Manual("the jq program ends too early")
        tok = self.tokens[self.i]
        if want is not None and tok[1] != want:
            raise Manual(f"the jq program has {tok[1]!r} where {want!r} was expected")
        self.i += 1
        return tok

    def parse(self) -> Node:
        node = self.pipe()
        if self.i != len(self.tokens):
            raise Manual(f"the jq program uses {self.peek()!r}, which is beyond field selection")
        return node

    def pipe(self) -> Node:
        node = self.logic()
        while self.peek() == "|":
            self.take()
            node = ("pipe", node, self.logic())
        return node

    def logic(self) -> Node:
        node = self.compare()
        while self.peek() in ("and", "or"):
            op = self.take()[1]
            node = (op, node, self.compare())
        return node

    def compare(self) -> Node:
        node = self.postfix()
        if self.peek() in ("==", "!=", "<", ">", "<=", ">="):
            op = self.take()[1]
            node = ("cmp", op, node, self.postfix())
        return node

    def postfix(self) -> Node:
        node = self.primary()
        while self.peek() in (".", "[", "?"):
            if self.peek() == "?":
                self.take()
                node = ("try", node)
            else:
                node = ("then", node, self.suffix())
        return node

    def suffix(self) -> Node:
        if self.peek() == ".":
            self.take()
            kind, value = self.tokens[self.i] if self.i < len(self.tokens) else ("", "")
            if kind == "word":
                self.i += 1
                return ("field", value)
            if kind == "str":
                self.i += 1
                return ("field", json.loads(value))
            if self.peek() != "[":
                raise Manual("the jq program has a '.' with no field after it")
        self.take("[")
        if self.peek() == "]":
            self.take()
            return ("each",)
        kind, value = self.take()
        self.take("]")
        if kind == "num" and "." not in value:
            return ("index", int(value))
        if kind == "str":
            return ("field", json.loads(value))
        raise Manual("the jq program indexes with something other than a number or a string")

    def primary(self) -> Node:
        kind, value = self.take()
        if value == ".":
            nxt = self.tokens[self.i] if self.i < len(self.tokens) else ("", "")
            if nxt[0] in ("word", "str") :
                self.i += 1
                return ("field", nxt[1] if nxt[0] == "word" else json.loads(nxt[1]))
            return ("identity",)
        if value == "(":
            node = self.pipe()
            self.take(")")
            return node
        if kind == "str":
            return ("literal", json.loads(value))
        if kind == "num":
            return ("literal", json.loads(value))
        if value in ("true", "false", "null"):
            return ("literal", json.loads(value))
        if value == "select":
            self.take("(")
            node = self.pipe()
            self.take(")")
            return ("select", node)
        if value in ("length", "keys", "not"):
            return (value,)
        raise Manual(f"the jq program uses {value!r}, which is beyond field selection (paths, select, length, keys)")


def _truthy(value: Any) -> bool:
    return value is not None and value is not False


def _type(value: Any) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")


def _order(value: Any) -> tuple[int, Any]:
    rank = {"null": 0, "boolean": 1, "number": 2, "string": 3, "array": 4, "object": 5}[_type(value)]
    if isinstance(value, dict):
        return (rank, [(k, _order(value[k])) for k in sorted(value)])
    if isinstance(value, list):
        return (rank, [_order(v) for v in value])
    return (rank, value if value is not None else 0)


def _eval(node: Node, value: Any) -> list[Any]:
    op = node[0]
    if op == "identity":
        return [value]
    if op == "literal":
        return [node[1]]
    if op == "field":
        if value is None:
            return [None]
        if not isinstance(value, dict):
            raise JqError(f"Cannot index {_type(value)} with \"{node[1]}\"")
        return [value.get(node[1])]
    if op == "index":
        if value is None:
            return [None]
        if not isinstance(value, list):
            raise JqError(f"Cannot index {_type(value)} with number")
        i = node[1]
        return [value[i] if -len(value) <= i < len(value) else None]
    if op == "each":
        if isinstance(value, list):
            return list(value)
        if isinstance(value, dict):
            return list(value.values())
        shown = f" ({json.dumps(value)[:40]})" if value is not None else ""
        raise JqError(f"Cannot iterate over {_type(value)}{shown}")
    if op == "then":
        return [out for mid in _eval(node[1], value) for out in _eval(node[2], mid)]
    if op == "pipe":
        return [out for mid in _eval(node[1], value) for out in _eval(node[2], mid)]
    if op == "try":
        try:
            return _eval(node[1], value)
        except JqError:
            return []
    if op == "select":
        return [value for cond in _eval(node[1], value) if _truthy(cond)]
    if op == "cmp":
        _, cmp, left, right = node
        out: list[bool] = []
        for r in _eval(right, value):
            for lv in _eval(left, value):
                a, b = _order(lv), _order(r)
                out.append({"==": lv == r and _type(lv) == _type(r), "!=": not (lv == r and _type(lv) == _type(r)),
                            "<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[cmp])
        return out
    if op in ("and", "or"):
        out = []
        for lv in _eval(node[1], value):
            if op == "and" and not _truthy(lv):
                out.append(False)
            elif op == "or" and _truthy(lv):
                out.append(True)
            else:
                out += [_truthy(r) for r in _eval(node[2], value)]
        return out
    if op == "not":
        return [not _truthy(value)]
    if op == "length":
        if isinstance(value, (dict, list, str)):
            return [len(value)]
        if value is None:
            return [0]
        if isinstance(value, bool):
            raise JqError("boolean has no length")
        return [abs(value)]
    if op == "keys":
        if isinstance(value, dict):
            return [sorted(value)]
        if isinstance(value, list):
            return [list(range(len(value)))]
        raise JqError(f"{_type(value)} has no keys")
    raise JqError(f"unknown jq operation {op}")


def _inputs(text: str) -> list[Any]:
    decoder = json.JSONDecoder()
    values: list[Any] = []
    i = 0
    while True:
        while i < len(text) and text[i] in " \t\r\n":
            i += 1
        if i >= len(text):
            return values
        try:
            value, i = decoder.raw_decode(text, i)
        except json.JSONDecodeError as exc:
            raise JqError(f"the input is not JSON ({exc.msg} at character {exc.pos}); add -o json to the "
                          "command before the pipe") from None
        except ValueError as exc:  # valid JSON Python will not read: an integer over 4300 digits
            raise JqError(f"the input cannot be read as JSON ({str(exc)[:80]})") from None
        values.append(value)


def _dump(value: Any, spec: FilterSpec) -> str:
    if spec.get("raw") and isinstance(value, str):
        return value
    if spec.get("compact"):
        return json.dumps(value, ensure_ascii=False, sort_keys=spec.get("sort", False), separators=(",", ":"))
    return json.dumps(value, ensure_ascii=False, sort_keys=spec.get("sort", False), indent=2)


def run(spec: FilterSpec, text: str) -> str:
    tree = _Parser(spec["program"]).parse()
    out: list[str] = []
    for value in _inputs(text):
        for result in _eval(tree, value):
            out.append(_dump(result, spec))
            if len(out) > MAX_OUTPUTS:
                raise JqError(f"the program printed more than {MAX_OUTPUTS} values")
    return "".join(line + "\n" for line in out)
