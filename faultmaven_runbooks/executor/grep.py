"""grep after a pipe, in-process: GNU grep's options a runbook uses, basic and extended regular
expressions, run on the `regex` module with a time limit so a pattern that backtracks
catastrophically ends the step instead of the server. It reads the text it is given, never a file.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import regex

from .operation import FilterError, FilterSpec, Manual, Refused
from .shellwords import Word

PATTERN_SECONDS = 1.0  # all pattern matching of one filter together
MAX_PATTERN = 500
Expand = Callable[[Word, bool], str]  # (word, expand {name} placeholders) -> text


_GREP_BOOL = {"i": "ignore_case", "v": "invert", "E": "extended", "F": "fixed", "w": "word", "x": "line",
              "c": "count", "n": "number", "s": "quiet_errors", "h": "no_filename", "G": "basic"}
_GREP_LONG = {"--ignore-case": "i", "--invert-match": "v", "--extended-regexp": "E", "--fixed-strings": "F",
              "--word-regexp": "w", "--line-regexp": "x", "--count": "c", "--line-number": "n",
              "--basic-regexp": "G", "--no-messages": "s", "--color=never": None, "--colour=never": None}
_GREP_NUM = {"A": "after", "B": "before", "C": "context", "m": "max_count"}


def parse(args: list[Word], expand: Expand, extended: bool) -> FilterSpec:
    spec: FilterSpec = {"filter": "grep", "patterns": [], "extended": extended}
    words = list(args)
    positional: list[str] = []
    while words:
        word = words.pop(0)
        text = expand(word, True)
        if text == "--":
            positional += [expand(w, True) for w in words]
            break
        if text.startswith("--") and "=" not in text[2:] or text in _GREP_LONG:
            if text not in _GREP_LONG:
                raise Manual(f"grep option {text[:30]} is not supported by the executor's grep")
            if (letter := _GREP_LONG[text]) is not None:
                spec[_GREP_BOOL[letter]] = True
            continue
        m = re.fullmatch(r"--(after|before|context|max-count)=(\d{1,4})", text)
        if m:
            spec[m.group(1).replace("-", "_")] = int(m.group(2))
            continue
        if text.startswith("-") and len(text) > 1 and not text.startswith("--"):
            i = 1
            while i < len(text):
                c = text[i]
                if c in _GREP_BOOL:
                    spec[_GREP_BOOL[c]] = True
                elif c in _GREP_NUM or c == "e":
                    rest = text[i + 1:] or (expand(words.pop(0), True) if words else "")
                    if c == "e":
                        spec["patterns"].append(rest)
                    elif re.fullmatch(r"\d{1,4}", rest):
                        spec[_GREP_NUM[c]] = int(rest)
                    else:
                        raise Manual(f"grep -{c} needs a number")
                    break
                elif c in "frRdD":
                    raise Refused(f"grep -{c} reads files or directories; the executor's grep only filters the "
                                  "output of the command before the pipe")
                else:
                    raise Manual(f"grep option -{c} is not supported by the executor's grep")
                i += 1
            continue
        positional.append(text)
    if not spec["patterns"]:
        if not positional:
            raise Manual("grep names no pattern")
        spec["patterns"].append(positional.pop(0))
    if positional:
        raise Refused(f"grep reads the file(s) {', '.join(p[:40] for p in positional)}; the executor's grep only "
                      "filters the output of the command before the pipe")
    for pattern in spec["patterns"]:
        if len(pattern) > MAX_PATTERN:
            raise Refused(f"the grep pattern is {len(pattern)} characters; the limit is {MAX_PATTERN}")
        compile_pattern(spec, pattern)  # a pattern that does not compile is found when planning
    if spec.pop("basic", False):
        spec["extended"] = False
    return spec


def _bre(pattern: str) -> str:
    """POSIX basic regex -> ERE: `\\(`, `\\|`, `\\+`, `\\{` are the operators; bare ones are text."""
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            out.append(nxt if nxt in "(){}|+?" else "\\" + nxt)
            i += 2
            continue
        out.append("\\" + c if c in "(){}|+?" else c)
        i += 1
    return "".join(out)


def compile_pattern(spec: FilterSpec, pattern: str) -> regex.Pattern[str]:
    if spec.get("fixed"):
        body = regex.escape(pattern)
    else:
        body = pattern if spec.get("extended") else _bre(pattern)
        body = body.replace("\\<", r"\b(?=\w)").replace("\\>", r"\b(?<=\w)")
    if spec.get("word"):
        body = rf"(?<![\w])(?:{body})(?![\w])"
    if spec.get("line"):
        body = rf"^(?:{body})$"
    try:
        return regex.compile(body, regex.IGNORECASE if spec.get("ignore_case") else 0)
    except regex.error as exc:
        raise Manual(f"the grep pattern {pattern[:60]!r} is not a regular expression the executor reads "
                     f"({exc})") from None


def matcher(spec: FilterSpec) -> Callable[[str], bool]:
    compiled = [compile_pattern(spec, p) for p in spec["patterns"]]
    deadline = time.monotonic() + PATTERN_SECONDS

    def match(line: str) -> bool:
        try:
            hit = any(c.search(line, timeout=max(0.001, deadline - time.monotonic())) for c in compiled)
        except TimeoutError:
            # A pattern like (a+)+$ backtracks exponentially: stop it (denial of service through a step).
            raise FilterError(f"the grep pattern took longer than {PATTERN_SECONDS}s on this output "
                              "(catastrophic backtracking); simplify the pattern") from None
        return hit != bool(spec.get("invert"))

    return match


def _lines(text: str) -> list[str]:
    return text.splitlines()


def run(spec: FilterSpec, text: str) -> str:
    match = matcher(spec)
    lines = _lines(text)
    hits = [i for i, line in enumerate(lines) if match(line)]
    if spec.get("max_count") is not None:
        hits = hits[:spec["max_count"]]
    if spec.get("count"):
        return f"{len(hits)}\n"
    context: int = spec.get("context", 0)
    before: int = spec.get("before", context)
    after: int = spec.get("after", context)
    shown: list[int] = []
    for i in hits:
        for j in range(max(0, i - before), min(len(lines), i + after + 1)):
            if not shown or j > shown[-1]:
                shown.append(j)
    out, hit_set, last = [], set(hits), None
    for j in shown:
        if last is not None and j > last + 1 and (before or after):
            out.append("--")
        prefix = f"{j + 1}{':' if j in hit_set else '-'}" if spec.get("number") else ""
        out.append(prefix + lines[j])
        last = j
    return "".join(line + "\n" for line in out)
