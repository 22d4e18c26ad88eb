"""The subset of kubectl the executor understands, as tokens -> `Operation`.

Tokens arrive already split and with validated context values. Every name that reaches the
API (literal or filled in) is checked again here, so a runbook line cannot smuggle a path
(`../secrets`) or a flag either.
"""

from __future__ import annotations

import json
import re

from .operation import Manual, Operation, Refused
from .placeholders import PlaceholderError, validate
from .vocabulary import (
    ALIAS, BOOL, BULK_FLAGS, FIELD_SELECTOR, FORBIDDEN_FLAGS, GLOBAL_FLAGS, INT, KINDS, MANUAL_VERBS, OPT,
    POD_SECURITY_PREFIX, RESOURCE_KEYS, SORT_BY, SPECS, VERB_KINDS, WORKLOADS, DANGEROUS_PATCH_KEYS,
)

__all__ = ["KINDS", "FORBIDDEN_FLAGS", "DANGEROUS_PATCH_KEYS", "parse_kubectl"]


def _split_flag(tok: str) -> tuple[str, str | None]:
    if tok.startswith("--"):
        name, eq, val = tok.partition("=")
        return name, (val if eq else None)
    if len(tok) > 2:  # -owide, -n=prod, -nprod
        return tok[:2], tok[3:] if tok[2] == "=" else tok[2:]
    return tok, None


def _check_flag(name: str) -> None:
    if name in FORBIDDEN_FLAGS:
        raise Refused(f"{name} redirects kubectl to another cluster, identity or raw API path "
                      "(credential/target redirection); the cluster comes from the server's settings only")
    if name in BULK_FLAGS:
        # Reads across all namespaces would include ones outside the allowlist; changes with
        # --all or -A are bulk changes.
        raise Refused(f"{BULK_FLAGS[name]} spans every namespace or object at once (bulk, and beyond the "
                      "namespace allowlist); name one namespace with -n and one object")


def _parse(tokens: list[str], spec: dict, stop_at_verb: bool = False) -> tuple[list[str], dict, int]:
    pos: list[str] = []
    opts: dict = {}
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
        name, val = _split_flag(tok)
        _check_flag(name)
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


def _name(value: str, what: str = "name") -> str:
    try:
        return validate("namespace" if what == "namespace" else "name", value)
    except PlaceholderError:
        raise Refused(f"{what} {value[:60]!r} is not a valid Kubernetes {what} (DNS-1123)") from None


def _kind(word: str) -> str:
    base = word.lower().split(".", 1)[0]  # deployment.apps -> deployment
    kind = ALIAS.get(base)
    if kind is None:
        raise Manual(f"resource type {word[:40]!r} is not supported by the executor")
    return kind


def _target(args: list[str], *, need_name: bool) -> tuple[str, str | None]:
    if not args:
        raise Manual("names no resource type")
    first, rest = args[0], args[1:]
    if "," in first:
        raise Manual("names several resource types at once; split it into one step per type")
    if "/" in first:
        kind_word, _, name = first.partition("/")
        kind, names = _kind(kind_word), [name] + rest
    else:
        kind, names = _kind(first), rest
    if len(names) > 1:
        raise Refused("names several objects in one step (bulk); use one step per object")
    name = _name(names[0]) if names else None
    if need_name and name is None:
        raise Refused(f"acts on every {kind[:-1]} (bulk); name one object")
    return kind, name


def _resources(text: str, flag: str) -> dict:
    out = {}
    for part in text.split(","):
        key, eq, value = part.partition("=")
        if not eq or key not in RESOURCE_KEYS:
            raise Manual(f"{flag} entry {part[:40]!r} is not cpu=, memory= or ephemeral-storage=")
        try:
            out[key] = validate("value", value)
        except PlaceholderError:
            raise Refused(f"{flag} value {value[:40]!r} is not a Kubernetes quantity") from None
    return out


def _dangerous_keys(obj: object) -> set[str]:
    if isinstance(obj, dict):
        found = {k for k in obj if k in DANGEROUS_PATCH_KEYS}
        for v in obj.values():
            found |= _dangerous_keys(v)
        return found
    if isinstance(obj, list):
        return set().union(*(_dangerous_keys(v) for v in obj)) if obj else set()
    return set()


def _labels(args: list[str], verb: str) -> dict:
    if not args:
        raise Manual(f"{verb} needs key=value or key- arguments")
    out: dict = {}
    for arg in args:
        if arg.endswith("-") and "=" not in arg:
            key, value = arg[:-1], None
        else:
            key, eq, value = arg.partition("=")
            if not eq:
                raise Manual(f"{verb} argument {arg[:40]!r} is not key=value or key-")
        try:
            validate("selector", key)
            if value is not None and verb == "label" and value:
                validate("selector", f"{key}={value}")
        except PlaceholderError:
            raise Refused(f"{verb} {arg[:40]!r} is not a valid key=value") from None
        if key.startswith(POD_SECURITY_PREFIX):
            # `label ns production pod-security.kubernetes.io/enforce=privileged` lets privileged
            # pods (host access) into the namespace.
            raise Refused(f"{verb} {key} changes the namespace's Pod Security admission level "
                          "(privilege escalation); a human changes it through review")
        if value is not None and (len(value) > 256 or not value.isprintable()):
            raise Refused(f"{verb} value for {key!r} is too long or not printable")
        out[key] = value
    return out


def parse_kubectl(tokens: list[str], default_namespace: str | None) -> Operation:
    """kubectl arguments (without 'kubectl') -> Operation, or Manual / Refused."""
    for tok in tokens:  # forbidden flags are refused wherever they sit before `--`
        if tok == "--":
            break
        if tok.startswith("-"):
            _check_flag(_split_flag(tok)[0])
    _, pre, start = _parse(tokens, GLOBAL_FLAGS, stop_at_verb=True)
    if start >= len(tokens):
        raise Manual("names no kubectl command")
    verb = tokens[start]
    if verb == "config":
        raise Refused("kubectl config reads or changes kubeconfig credentials")
    if verb in MANUAL_VERBS:
        raise Manual(f"kubectl {verb} {MANUAL_VERBS[verb]}; the executor does not run it, a human may")
    if verb not in SPECS:
        raise Manual(f"kubectl {verb[:30]} is not supported by the executor")
    args, opts, _ = _parse(tokens[start + 1:], {**GLOBAL_FLAGS, **SPECS[verb]})
    opts = {**pre, **opts}
    sub = None
    if verb in ("rollout", "set", "top"):
        if not args:
            raise Manual(f"kubectl {verb} needs a subcommand")
        sub, args = args[0], args[1:]
    namespace = opts.get("namespace") or default_namespace or "default"
    op = _build(verb, sub, args, opts)
    if KINDS[op.kind][1]:
        op.namespace = _name(namespace, "namespace")
    return op


def _build(verb: str, sub: str | None, args: list[str], opts: dict) -> Operation:
    selector = opts.pop("selector", None)
    opts.pop("namespace", None)
    opts.pop("request_timeout", None)
    dry = opts.pop("dry_run", None)
    if selector is not None:
        try:
            validate("selector", selector)
        except PlaceholderError:
            raise Manual(f"label selector {selector[:60]!r} uses syntax the executor does not support") from None
    fs = opts.get("field_selector")
    if fs is not None and not all(FIELD_SELECTOR.fullmatch(p) for p in fs.split(",")):
        raise Manual(f"field selector {fs[:60]!r} uses syntax the executor does not support")
    if opts.get("sort_by") is not None and not SORT_BY.fullmatch(opts["sort_by"]):
        raise Manual(f"--sort-by {opts['sort_by'][:40]!r} is not a simple field path")
    if opts.get("watch") or opts.get("follow"):
        raise Manual("watches or follows forever (-w/-f); the executor takes one snapshot")
    opts.pop("watch", None)
    opts.pop("follow", None)
    if verb == "events":
        kind, name = "events", None
        target = opts.pop("for", None)
        if target:
            _, tname = _target([target], need_name=True)
            opts["field_selector"] = f"involvedObject.name={tname}"
        return _op("get", kind, name, opts, selector, dry)
    if verb in ("get", "describe"):
        kind, name = _target(args, need_name=False)
        out = opts.get("output")
        if out is not None and out not in ("wide", "yaml", "json", "name"):
            raise Manual(f"output format {out[:30]!r} is not supported; use -o yaml, json, wide or name")
        return _op(verb, kind, name, opts, selector, dry)
    if verb == "logs":
        if opts.get("tail") is not None and opts["tail"] < 0:
            opts.pop("tail")
        if not args:
            raise Manual("kubectl logs names no pod")
        kind, name = _target(args if "/" in args[0] else ["pods", *args], need_name=True)
        return _op("logs", kind, name, opts, None, dry)
    if verb == "top":
        kind, name = _target([sub, *args], need_name=False)
        return _op("top", kind, name, opts, selector, dry)
    if selector is not None:
        # A selector on a change hits every matching object: bulk change.
        raise Refused(f"kubectl {verb} with a label selector changes every matching object (bulk); name one object")
    if verb == "rollout":
        if sub not in ("status", "history", "restart", "undo", "pause", "resume"):
            raise Manual(f"kubectl rollout {str(sub)[:20]} is not supported")
        kind, name = _target(args, need_name=True)
        if kind not in WORKLOADS:
            raise Manual(f"rollout works on deployments, statefulsets and daemonsets, not {kind}")
        return _op(f"rollout-{sub}", kind, name, opts, None, dry)
    if verb == "set":
        if sub != "resources":
            raise Manual(f"kubectl set {str(sub)[:20]} is not supported (only set resources)")
        kind, name = _target(args, need_name=True)
        for key in ("limits", "requests"):
            if key in opts:
                opts[key] = _resources(opts[key], f"--{key}")
        if not opts.get("limits") and not opts.get("requests"):
            raise Manual("set resources needs --limits or --requests")
        return _op("set-resources", kind, name, opts, None, dry)
    if verb in ("label", "annotate"):
        kind, name = _target(args[:1], need_name=False)
        rest = args[1:]
        if name is None and rest and "=" not in rest[0] and not rest[0].endswith("-"):
            name, rest = _name(rest[0]), rest[1:]
        if name is None:
            raise Refused(f"{verb} without an object name changes every {kind} (bulk)")
        opts["changes"] = _labels(rest, verb)
        return _op(verb, kind, name, opts, None, dry)
    if verb in ("cordon", "uncordon") and args and "/" not in args[0] and args[0].lower() not in ALIAS:
        args = ["nodes", *args]  # kubectl cordon NODE
    kind, name = _target(args, need_name=True)
    if verb == "scale" and "replicas" not in opts:
        raise Manual("scale needs --replicas")
    if verb == "delete" and opts.get("field_selector"):
        raise Refused("delete with a field selector removes every matching object (bulk); name one object")
    if verb == "patch":
        _patch_options(opts)
    return _op(verb, kind, name, opts, None, dry)


def _patch_options(opts: dict) -> None:
    if "patch_file" in opts:
        raise Manual("--patch-file reads a local file; paste the patch with -p")
    ptype = opts.pop("type", "strategic")
    if ptype not in ("strategic", "merge"):
        raise Manual(f"patch --type {ptype[:20]} is not supported (strategic or merge only)")
    try:
        body = json.loads(opts.get("patch", ""))
    except ValueError:
        raise Manual("the patch is not valid JSON") from None
    if not isinstance(body, dict) or not body:
        raise Manual("the patch must be a JSON object")
    bad = _dangerous_keys(body)
    if bad:
        raise Refused(f"the patch touches {sorted(bad)}, which change what code runs or with which "
                      "privileges (remote code execution through a patch)")
    opts["patch"] = body
    opts["patch_type"] = ptype


def _op(verb: str, kind: str, name: str | None, opts: dict, selector: str | None, dry) -> Operation:
    allowed = VERB_KINDS.get(verb)
    if allowed is not None and kind not in allowed:
        raise Manual(f"kubectl {verb} on {kind} is not supported by the executor")
    if selector is not None:
        opts["selector"] = selector
    if dry not in (None, False, "none"):
        opts["dry_run_only"] = True  # the step itself asks for a dry run: never applied
    return Operation(verb, kind, name, None, {k: v for k, v in opts.items() if v is not None})
