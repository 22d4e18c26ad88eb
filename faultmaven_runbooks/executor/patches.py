"""`kubectl patch -p`: the body parsed (strategic, merge or JSON patch) and refused when it touches
what changes the code that runs or its privileges, wherever in the body or the JSON patch path."""

from __future__ import annotations

import json

from .operation import Manual, Refused
from .vocabulary import DANGEROUS_PATCH_KEYS


def _dangerous_keys(obj: object) -> set[str]:
    if isinstance(obj, dict):
        found = {k for k in obj if k in DANGEROUS_PATCH_KEYS}
        for v in obj.values():
            found |= _dangerous_keys(v)
        return found
    if isinstance(obj, list):
        return set().union(*(_dangerous_keys(v) for v in obj)) if obj else set()
    return set()


def patch_options(opts: dict, custom: bool) -> None:
    if "patch_file" in opts:
        raise Manual("--patch-file reads a local file; paste the patch with -p")
    ptype = opts.pop("type", "strategic")
    if ptype not in ("strategic", "merge", "json"):
        raise Manual(f"patch --type {ptype[:20]} is not supported (strategic, merge or json)")
    try:
        body = json.loads(opts.get("patch", ""))
    except ValueError:
        raise Manual("the patch is not valid JSON") from None
    if ptype == "json":
        _json_patch(body)
    elif not isinstance(body, dict) or not body:
        raise Manual("the patch must be a JSON object")
    bad = _dangerous_keys(body) | (_json_patch_keys(body) & DANGEROUS_PATCH_KEYS if ptype == "json" else set())
    if bad:
        raise Refused(f"the patch touches {sorted(bad)}, which change what code runs or with which "
                      "privileges (remote code execution through a patch)")
    opts["patch"] = body
    # custom resources take no strategic merge patch (the API server refuses it); merge is the same for maps
    opts["patch_type"] = "merge" if custom and ptype == "strategic" else ptype


def _json_patch(body: object) -> None:
    if not isinstance(body, list) or not body:
        raise Manual("a JSON patch must be a non-empty list of operations")
    for entry in body:
        if not isinstance(entry, dict) or entry.get("op") not in ("add", "remove", "replace", "test"):
            # move and copy read other fields into this one: a Secret reference could be copied anywhere
            raise Manual("JSON patch operations must be add, remove, replace or test")
        path = entry.get("path")
        if not isinstance(path, str) or not path.startswith("/"):
            raise Manual("each JSON patch operation needs a path starting with '/'")


def _json_patch_keys(body: list) -> set[str]:
    """The field names a JSON patch writes: every segment of each path (`~1` is `/`, `~0` is `~`)."""
    return {seg.replace("~1", "/").replace("~0", "~") for e in body for seg in e["path"].split("/") if seg}
