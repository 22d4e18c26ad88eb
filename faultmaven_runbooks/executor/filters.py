"""Read-only filters after a pipe, applied in-process to the text a read printed:
`grep [-i -v -E -F -w -x -c -n -A/-B/-C N -e PAT]`, `head`, `tail`, `wc -l|-w|-c`,
`awk '[NR==N | /re/ | $N=="x"] {print $N, ...}'` and `jq` field selection (see jq.py).

A filter only ever sees text: it has no file argument, no way to start a program, no output
file (awk's `system()`, `getline`, `print >` and grep's `-f`/`-r` are refused before anything
runs). Patterns run with a time limit (grep.py).
"""

from __future__ import annotations

import re

from . import grep, jq
from .operation import FilterError, FilterSpec, Manual, Refused
from .shellwords import Word, plain

# tools a runbook pipes into that are no read-only filter, and why
_NOT_FILTERS = {
    "xargs": "runs a command for every line it reads (xargs)",
    "sh": "runs the text as a shell script", "bash": "runs the text as a shell script",
    "zsh": "runs the text as a shell script", "tee": "writes a file (tee)",
    "kubectl": "feeds one command's output to another command", "oc": "feeds one command's output to another command",
    "sed": "edits text with sed, which can also write files and run commands",
    "base64": "decodes data (base64), as one does with Secret values",
}

Expand = grep.Expand


def parse(stage: list[Word], expand: Expand) -> FilterSpec:
    """One pipeline stage -> a filter spec (plain JSON, part of the plan hash), or Manual / Refused."""
    tool = plain(stage[0]) if stage else None
    if tool is None:
        raise Manual("pipes into a command named by a variable")
    args = stage[1:]
    if tool == "grep" or tool == "egrep":
        return grep.parse(args, expand, extended=tool == "egrep")
    if tool in ("head", "tail"):
        return _head_tail(tool, [expand(a, False) for a in args])
    if tool == "wc":
        return _wc([expand(a, False) for a in args])
    if tool == "awk":
        return _awk([expand(a, False) for a in args])
    if tool == "jq":
        return jq.parse_args([expand(a, False) for a in args])
    why = _NOT_FILTERS.get(tool, f"`{tool[:30]}` is not one of the read-only filters the executor applies "
                                 "in-process (grep, head, tail, wc, awk '{print $N}', jq field selection)")
    raise Manual(f"pipes into {tool[:30]}: {why}")


def apply(spec: FilterSpec, text: str) -> str:
    name = spec["filter"]
    if name == "grep":
        return grep.run(spec, text)
    if name in ("head", "tail"):
        return _run_head_tail(spec, text)
    if name == "wc":
        return _run_wc(spec, text)
    if name == "awk":
        return _run_awk(spec, text)
    if name == "jq":
        return jq.run(spec, text)
    raise FilterError(f"unknown filter {name!r}")


# -- head, tail, wc -------------------------------------------------------------------------------
def _head_tail(tool: str, args: list[str]) -> FilterSpec:
    spec: FilterSpec = {"filter": tool, "lines": 10, "from_start": False}
    i = 0
    while i < len(args):
        a = args[i]
        i += 1
        value = None
        if re.fullmatch(r"-\d{1,6}", a):
            value = a[1:]
        elif a in ("-n", "--lines"):
            if i >= len(args):
                raise Manual(f"{tool} -n needs a number")
            value, i = args[i], i + 1
        elif a.startswith("-n") or a.startswith("--lines="):
            value = a[2:] if a.startswith("-n") else a.split("=", 1)[1]
        elif a in ("-f", "--follow", "-F"):
            raise Manual(f"{tool} -f follows forever; the executor takes one snapshot")
        elif a.startswith("-"):
            raise Manual(f"{tool} option {a[:20]} is not supported by the executor")
        else:
            raise Refused(f"{tool} reads the file {a[:40]}; the executor's {tool} only filters the output of the "
                          "command before the pipe")
        m = re.fullmatch(r"([+-]?)(\d{1,6})", value or "")
        if not m:
            raise Manual(f"{tool} -n needs a number, not {value!r}")
        spec["lines"] = int(m.group(2))
        spec["from_start"] = m.group(1) == "+" and tool == "tail"
        spec["all_but"] = m.group(1) == "-" and tool == "head"
    return spec


def _run_head_tail(spec: FilterSpec, text: str) -> str:
    lines = text.splitlines(keepends=True)
    n = spec["lines"]
    if spec["filter"] == "head":
        return "".join(lines[:-n] if spec.get("all_but") else lines[:n]) if n or not spec.get("all_but") else text
    if spec.get("from_start"):
        return "".join(lines[max(n - 1, 0):])
    return "".join(lines[-n:]) if n else ""


def _wc(args: list[str]) -> FilterSpec:
    modes = {"-l": "lines", "--lines": "lines", "-w": "words", "--words": "words", "-c": "bytes", "--bytes": "bytes"}
    if len(args) != 1 or args[0] not in modes:
        raise Manual("wc is supported with exactly one of -l, -w or -c")
    return {"filter": "wc", "mode": modes[args[0]]}


def _run_wc(spec: FilterSpec, text: str) -> str:
    count = {"lines": text.count("\n"), "words": len(text.split()), "bytes": len(text.encode())}[spec["mode"]]
    return f"{count}\n"


# -- awk: field printing only -----------------------------------------------------------------------
_AWK_ITEM = r'(\$(?:NF|\d{1,3})|"(?:[^"\\]|\\.)*")'
_AWK_PRINT = re.compile(rf"\s*print\s*((?:{_AWK_ITEM}\s*,?\s*)*)\s*;?\s*")
_AWK_COND = re.compile(r'\s*(?:(NR)\s*(==|!=|<=|>=|<|>)\s*(\d{1,6})'  # NR == 2
                       r'|/((?:[^/\\]|\\.)*)/'  # /regex/
                       r'|(\$(?:NF|\d{1,3}))\s*(==|!=)\s*"((?:[^"\\]|\\.)*)")?\s*')  # $3 == "Running"


def _awk(args: list[str]) -> FilterSpec:
    sep, program = None, None
    i = 0
    while i < len(args):
        a = args[i]
        i += 1
        if a == "-F":
            if i >= len(args):
                raise Manual("awk -F needs a separator")
            sep, i = args[i], i + 1
        elif a.startswith("-F"):
            sep = a[2:]
        elif a.startswith("-"):
            raise Manual(f"awk option {a[:20]} is not supported by the executor (only -F)")
        elif program is None:
            program = a
        else:
            raise Refused(f"awk reads the file {a[:40]}; the executor's awk only filters the output of the command "
                          "before the pipe")
    if program is None:
        raise Manual("awk names no program")
    if sep is not None:
        sep = "\t" if sep == "\\t" else sep
        if len(sep) != 1:
            raise Manual("awk -F is supported with a one-character separator")
    m = re.fullmatch(r"(?s)(.*?)\{(.*)\}\s*", program)
    if not m:
        raise Manual("the awk program is not `[condition] {print $N, ...}`")
    cond = _AWK_COND.fullmatch(m.group(1))
    body = _AWK_PRINT.fullmatch(m.group(2))
    if cond is None or body is None:
        # system(), getline, `print > file`, printf and variables are beyond printing fields
        raise Manual("the awk program does more than print fields ({print $N}, with an NR==N, /regex/ or "
                     "$N==\"x\" condition): a shell would be needed to run it")
    items = re.findall(_AWK_ITEM + r"\s*(,?)", body.group(1))
    spec: FilterSpec = {"filter": "awk", "sep": sep, "items": [[item, bool(comma)] for item, comma in items]}
    if cond.group(1):
        spec["nr"] = [cond.group(2), int(cond.group(3))]
    elif cond.group(4) is not None:
        spec["regex"] = cond.group(4)
        grep.compile_pattern({"extended": True}, cond.group(4))
    elif cond.group(5):
        spec["field"] = [cond.group(5), cond.group(6), _awk_string(cond.group(7))]
    return spec


def _awk_string(body: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"t": "\t", "n": "\n"}.get(m.group(1), m.group(1)), body)


def _field(fields: list[str], ref: str, line: str) -> str:
    if ref == "$0":
        return line
    n = len(fields) if ref == "$NF" else int(ref[1:])
    return fields[n - 1] if 0 < n <= len(fields) else ""


def _run_awk(spec: FilterSpec, text: str) -> str:
    match = grep.matcher({"patterns": [spec["regex"]], "extended": True}) if spec.get("regex") else None
    out: list[str] = []
    for nr, line in enumerate(text.splitlines(), 1):
        fields = line.split() if spec["sep"] is None else line.split(spec["sep"])
        if "nr" in spec:
            op, n = spec["nr"]
            if not {"==": nr == n, "!=": nr != n, "<": nr < n, ">": nr > n, "<=": nr <= n, ">=": nr >= n}[op]:
                continue
        if match is not None and not match(line):
            continue
        if "field" in spec:
            ref, op, value = spec["field"]
            if (_field(fields, ref, line) == value) != (op == "=="):
                continue
        if not spec["items"]:
            out.append(line)
            continue
        pieces: list[str] = []
        for item, comma in spec["items"]:
            pieces.append(_awk_string(item[1:-1]) if item.startswith('"') else _field(fields, item, line))
            if comma:
                pieces.append(" ")
        out.append("".join(pieces))
    return "".join(line + "\n" for line in out)
