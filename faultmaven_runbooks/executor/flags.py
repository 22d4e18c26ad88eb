"""kubectl's flags read off the tokens: split `--flag=value` / `-nprod`, refuse the flags that
redirect the command, and name each accepted flag by its canonical option.

Which flags a verb takes (and of what type) is data in vocabulary.py; this module only reads them.
"""

from __future__ import annotations

import re
from typing import Any

from .operation import Manual, Refused
from .vocabulary import ALL_NAMESPACES_FLAGS, BOOL, BULK_FLAGS, FORBIDDEN_FLAGS, INT, OPT

FlagSpec = dict[str, tuple[str, str]]  # flag as written -> (option name, BOOL | OPT | INT | STR)


def split_flag(tok: str) -> tuple[str, str | None]:
    if tok.startswith("--"):
        name, eq, val = tok.partition("=")
        return name, (val if eq else None)
    if len(tok) > 2:  # -owide, -n=prod, -nprod
        return tok[:2], tok[3:] if tok[2] == "=" else tok[2:]
    return tok, None


def check_flag(name: str) -> None:
    if name in FORBIDDEN_FLAGS:
        raise Refused(f"{name} redirects kubectl to another cluster, identity or raw API path "
                      "(credential/target redirection); the cluster comes from the server's settings only")
    if name in BULK_FLAGS:
        # Reads across all namespaces would include ones outside the allowlist; changes with
        # --all or -A are bulk changes.
        raise Refused(f"{BULK_FLAGS[name]} spans every namespace or object at once (bulk, and beyond the "
                      "namespace allowlist); name one namespace with -n and one object")


def parse_flags(tokens: list[str], spec: FlagSpec, stop_at_verb: bool = False) -> tuple[list[str], dict[str, Any], int]:
    """(positional words, options by canonical name, index where parsing stopped)."""
    pos: list[str] = []
    opts: dict[str, Any] = {}
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if stop_at_verb and not tok.startswith("-"):
            return pos, opts, i
        i += 1
        if tok == "--":
            raise Manual("passes arguments after `--` (a command for a container)")
        if not tok.startswith("-") or tok == "-":
            pos.append(tok)
            continue
        name, val = split_flag(tok)
        check_flag(name)
        if name not in spec:
            raise Manual(f"flag {name} is not supported by the executor")
        canon, kind = spec[name]
        if kind in (BOOL, OPT):
            if val is None or kind == OPT:
                opts[canon] = True if val is None else val
                continue
            if val.lower() not in ("true", "false"):
                raise Manual(f"flag {name} expects true or false")
            opts[canon] = val.lower() == "true"
            continue
        if val is None:
            if i >= len(tokens):
                raise Manual(f"flag {name} needs a value")
            val = tokens[i]
            i += 1
        if kind == INT:
            if not re.fullmatch(r"-?[0-9]{1,6}", val):
                raise Refused(f"flag {name} needs a whole number, got {val[:30]!r}")
            opts[canon] = int(val)
        else:
            opts[canon] = val
    return pos, opts, i


def take_all_namespaces(tokens: list[str]) -> tuple[list[str], bool]:
    """Take -A / --all-namespaces[=true] out of the tokens (`-Aowide` is `-A -owide`)."""
    out: list[str] = []
    every = False
    for i, tok in enumerate(tokens):
        if tok == "--":
            return out + tokens[i:], every
        name, value = split_flag(tok) if tok.startswith("-") else (tok, None)
        if tok.startswith("-A") and not tok.startswith("--") and len(tok) > 2 and tok[2] != "=":
            every = True
            out.append("-" + tok[2:])
        elif name in ALL_NAMESPACES_FLAGS:
            if value not in (None, "true", "false", "True", "False"):
                raise Manual(f"{name} expects true or false")
            every = every or value in (None, "true", "True")
        else:
            out.append(tok)
    return out, every
