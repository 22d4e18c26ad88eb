"""The subset of kubectl the executor understands, as tokens -> `Operation`.

Tokens arrive already split and with validated context values. Every name that reaches the
API (literal or filled in) is checked again here, so a runbook line cannot smuggle a path
(`../secrets`) or a flag either (flags.py refuses the flags that redirect the command).
"""

from __future__ import annotations

from typing import Any

from . import printing
from .flags import check_flag, parse_flags, split_flag, take_all_namespaces
from .jsonpath import JsonPathError
from .operation import Manual, Operation, Refused
from .patches import patch_options
from .placeholders import PlaceholderError, dns_name, validate
from .vocabulary import (
    ALIAS,
    CUSTOM_ALIAS,
    CUSTOM_KINDS,
    CUSTOM_VERBS,
    FIELD_SELECTOR,
    GLOBAL_FLAGS,
    KINDS,
    LIST_VERBS,
    MANUAL_VERBS,
    POD_SECURITY_PREFIX,
    RESOURCE_KEYS,
    RESOURCE_WORD,
    SORT_BY,
    SPECS,
    VERB_KINDS,
    WORKLOADS,
)

Options = dict[str, Any]  # canonical option name -> value, as flags.parse_flags reads them


def _name(value: str, what: str = "name") -> str:
    # Strict DNS-1123: a name goes into an API path, so `a/b` or `..` would address another object.
    try:
        if what == "namespace":
            return validate("namespace", value)
        if value.startswith("-") or not dns_name(value):
            raise PlaceholderError(value)
        return value
    except PlaceholderError:
        raise Refused(f"{what} {value[:60]!r} is not a valid Kubernetes {what} (DNS-1123)") from None


def _kind(word: str) -> tuple[str, str | None]:
    """A resource word -> (plural, group): group None for the typed client's kinds, the API
    group for others, "?" when only discovery on the cluster can say."""
    lower = word.lower()
    base, _, group = lower.partition(".")  # deployment.apps -> deployment; kubevirt.kubevirt.io -> kubevirt
    if base in ALIAS and (not group or group in ("apps", "batch", "v1", "core") or "k8s.io" in group
                          or group in ("autoscaling", "policy")):
        return ALIAS[base], None
    if base in CUSTOM_ALIAS and (not group or CUSTOM_KINDS[CUSTOM_ALIAS[base]][0] == group):
        plural = CUSTOM_ALIAS[base]
        return plural, CUSTOM_KINDS[plural][0]
    if base == "all":
        raise Manual("`all` is a category of several kinds; name each kind (one step per kind)")
    if RESOURCE_WORD.fullmatch(lower):
        return base, group or "?"  # API discovery on the cluster resolves it when the step runs
    raise Manual(f"resource type {word[:40]!r} is not a Kubernetes resource name")


def _target(args: list[str], *, need_name: bool) -> tuple[str, str | None, str | None]:
    if not args:
        raise Manual("names no resource type")
    first, rest = args[0], args[1:]
    if "," in first:
        raise Manual("names several resource types at once; split it into one step per type")
    if "/" in first:
        kind_word, _, first_name = first.partition("/")
        (kind, group), names = _kind(kind_word), [first_name] + rest
    else:
        (kind, group), names = _kind(first), rest
    if len(names) > 1:
        raise Refused("names several objects in one step (bulk); use one step per object")
    name = _name(names[0]) if names else None
    if need_name and name is None:
        raise Refused(f"acts on every {kind.rstrip('s')} (bulk); name one object")
    return kind, name, group


def _resources(text: str, flag: str) -> dict[str, str]:
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


def _labels(args: list[str], verb: str) -> dict[str, str | None]:
    """key=value sets a label or annotation, key- removes it (None)."""
    if not args:
        raise Manual(f"{verb} needs key=value or key- arguments")
    out: dict[str, str | None] = {}
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


def parse_kubectl(tokens: list[str], default_namespace: str | None, tool: str = "kubectl") -> Operation:
    """kubectl arguments (without 'kubectl') -> Operation, or Manual / Refused. `tool` only names
    the command in reasons (oc runs through the same grammar)."""
    for tok in tokens:  # forbidden flags are refused wherever they sit before `--`
        if tok == "--":
            break
        if tok.startswith("-"):
            check_flag(split_flag(tok)[0])
    tokens, every = take_all_namespaces(tokens)
    _, pre, start = parse_flags(tokens, GLOBAL_FLAGS, stop_at_verb=True)
    if start >= len(tokens):
        raise Manual("names no kubectl command")
    verb = tokens[start]
    if verb == "config":
        raise Refused("kubectl config reads or changes kubeconfig credentials")
    if verb in MANUAL_VERBS:
        raise Manual(f"{tool} {verb} {MANUAL_VERBS[verb]}; the executor does not run it, a human may")
    if verb not in SPECS:
        raise Manual(f"kubectl {verb[:30]} is not supported by the executor")
    args, opts, _ = parse_flags(tokens[start + 1:], {**GLOBAL_FLAGS, **SPECS[verb]})
    opts = {**pre, **opts}
    sub = ""  # rollout status, set resources, top pods
    if verb in ("rollout", "set", "top"):
        if not args:
            raise Manual(f"kubectl {verb} needs a subcommand")
        sub, args = args[0], args[1:]
    namespace = opts.get("namespace") or default_namespace or "default"
    if every and verb not in LIST_VERBS:
        # a change (or logs) with -A acts in every namespace at once
        raise Refused(f"-A/--all-namespaces with kubectl {verb} spans every namespace at once (bulk, and beyond "
                      "the namespace allowlist); name one namespace with -n and one object")
    op = _build(verb, sub, args, opts)
    if every and op.name is None:
        op.options["all_namespaces"] = True  # items outside the namespace allowlist are dropped when read
    elif _namespaced(op):
        op.namespace = _name(namespace, "namespace")
    return op


def _namespaced(op: Operation) -> bool:
    if op.group is None:
        return KINDS[op.kind][1]
    known = CUSTOM_KINDS.get(op.kind)
    return known[1] if known else True  # unknown: as the runbook wrote it; discovery corrects it


def _build(verb: str, sub: str, args: list[str], opts: Options) -> Operation:
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
    for flag in ("watch", "follow", "ignore_not_found", "chunk_size", "prefix", "max_log_requests"):
        opts.pop(flag, None)
    if opts.get("output") is not None:
        try:
            printing.check_output(opts["output"])
        except JsonPathError as exc:
            raise Manual(f"the output template does not parse ({exc})") from None
        except printing.OutputError as exc:
            raise Manual(str(exc)) from None
    if verb == "events":
        target = opts.pop("for", None)
        if target:
            _, tname, _ = _target([target], need_name=True)
            opts["field_selector"] = f"involvedObject.name={tname}"
        return _op("get", ("events", None), None, opts, selector, dry)
    if verb in ("get", "describe"):
        kind, name, group = _target(args, need_name=False)
        return _op(verb, (kind, group), name, opts, selector, dry)
    if verb == "logs":
        return _logs(args, opts, selector, dry)
    if verb == "top":
        kind, name, group = _target([sub, *args], need_name=False)
        return _op("top", (kind, group), name, opts, selector, dry)
    if opts.get("output") is not None:
        opts.pop("output")  # what a change prints back is ours to show (the dry run's diff)
    if selector is not None:
        # A selector on a change hits every matching object: bulk change.
        raise Refused(f"kubectl {verb} with a label selector changes every matching object (bulk); name one object")
    if verb == "rollout":
        if sub not in ("status", "history", "restart", "undo", "pause", "resume"):
            raise Manual(f"kubectl rollout {sub[:20]} is not supported")
        kind, name, group = _target(args, need_name=True)
        if kind not in WORKLOADS or group is not None:
            raise Manual(f"rollout works on deployments, statefulsets and daemonsets, not {kind}")
        return _op(f"rollout-{sub}", (kind, group), name, opts, None, dry)
    if verb == "set":
        if sub != "resources":
            raise Manual(f"kubectl set {sub[:20]} is not supported (only set resources)")
        kind, name, group = _target(args, need_name=True)
        for key in ("limits", "requests"):
            if key in opts:
                opts[key] = _resources(opts[key], f"--{key}")
        if not opts.get("limits") and not opts.get("requests"):
            raise Manual("set resources needs --limits or --requests")
        return _op("set-resources", (kind, group), name, opts, None, dry)
    if verb in ("label", "annotate"):
        kind, name, group = _target(args[:1], need_name=False)
        rest = args[1:]
        if name is None and rest and "=" not in rest[0] and not rest[0].endswith("-"):
            name, rest = _name(rest[0]), rest[1:]
        if name is None:
            raise Refused(f"{verb} without an object name changes every {kind} (bulk)")
        opts["changes"] = _labels(rest, verb)
        return _op(verb, (kind, group), name, opts, None, dry)
    if verb in ("cordon", "uncordon") and args and "/" not in args[0] and args[0].lower() not in ALIAS:
        args = ["nodes", *args]  # kubectl cordon NODE
    kind, name, group = _target(args, need_name=True)
    if verb == "scale" and "replicas" not in opts:
        raise Manual("scale needs --replicas")
    if verb == "delete" and opts.get("field_selector"):
        raise Refused("delete with a field selector removes every matching object (bulk); name one object")
    if verb == "patch":
        patch_options(opts, custom=group is not None)
    return _op(verb, (kind, group), name, opts, None, dry)


def _logs(args: list[str], opts: Options, selector: str | None, dry: object) -> Operation:
    """`logs POD [CONTAINER]`, `logs deployment/NAME`, `logs -l SELECTOR [CONTAINER]`."""
    if opts.get("tail") is not None and opts["tail"] < 0:
        opts.pop("tail")  # --tail=-1: everything, within the policy's log_tail_max
    if selector is not None:
        if len(args) > 1:
            raise Manual("kubectl logs -l takes at most a container name besides the selector")
        if args:
            opts["container"] = opts.get("container") or _name(args[0], "container")
        return _op("logs", ("pods", None), None, opts, selector, dry)
    if not args:
        raise Manual("kubectl logs names no pod")
    if len(args) == 2 and "/" not in args[1]:
        opts["container"] = opts.get("container") or _name(args[1], "container")
        args = args[:1]
    kind, name, group = _target(args if "/" in args[0] else ["pods", *args], need_name=True)
    return _op("logs", (kind, group), name, opts, None, dry)


def _op(verb: str, kind: tuple[str, str | None], name: str | None, opts: Options, selector: str | None,
        dry: object) -> Operation:
    plural, group = kind
    allowed = CUSTOM_VERBS if group is not None else VERB_KINDS.get(verb)
    if group is not None and verb not in CUSTOM_VERBS:
        raise Manual(f"kubectl {verb} on {plural} is not supported by the executor")
    if group is None and allowed is not None and plural not in allowed:
        raise Manual(f"kubectl {verb} on {plural} is not supported by the executor")
    if selector is not None:
        opts["selector"] = selector
    if dry not in (None, False, "none"):
        opts["dry_run_only"] = True  # the step itself asks for a dry run: never applied
    return Operation(verb, plural, name, None, {k: v for k, v in opts.items() if v is not None}, group)
