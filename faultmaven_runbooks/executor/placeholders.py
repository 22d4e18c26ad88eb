"""Context values for `{placeholders}`: validated by type before they touch a command.

Values are substituted into tokens *after* the command line was split, and every value must
match a strict pattern (DNS-1123 name, label selector, integer, quantity), so a value can never
become a flag, a second argument or a second command.
"""

from __future__ import annotations

import re

# `{name}`; `{end}` closes a jsonpath range and is never a placeholder.
PLACEHOLDER = re.compile(r"\{(?!end\})([a-z_][a-z0-9_]*)\}")
MAX_VALUE = 253

# DNS-1123 subdomain: what Kubernetes accepts for most object names and namespaces.
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
# DNS-1123 label: namespaces and container names.
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_INTEGER = re.compile(r"^[0-9]{1,6}$")
# Kubernetes resource quantity (CPU, memory, storage): 500m, 1.5, 512Mi, 2G.
_QUANTITY = re.compile(r"^[0-9]{1,9}(\.[0-9]{1,6})?(m|k|M|G|T|P|Ki|Mi|Gi|Ti|Pi)?$")
_LABEL_KEY = (r"([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"  # an optional DNS prefix
              r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?")
_LABEL_VALUE = r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?"
# Equality-based selectors only (k=v, k==v, k!=v, k, !k), comma-separated.
_SELECTOR_TERM = re.compile(rf"^(!?{_LABEL_KEY}|{_LABEL_KEY}(=|==|!=){_LABEL_VALUE})$")
_REVISION = _INTEGER
_MAC = re.compile(r"^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$")
# `pod/web-1`, `deployment.apps/web`: what `kubectl get ... -o name` prints, bound to a variable.
_REF = re.compile(r"^([a-z][a-z0-9]*)(\.[a-z0-9.-]+)?/(.+)$")

# Which pattern each placeholder name must match; unknown names default to a DNS-1123 name.
_KINDS: dict[str, str] = {
    "namespace": "label", "container": "label",
    "replicas": "integer", "revision": "integer", "min_replicas": "integer", "max_replicas": "integer",
    "tail": "integer", "grace_period": "integer", "port": "integer",
    "memory_limit": "quantity", "memory_request": "quantity", "cpu_limit": "quantity",
    "cpu_request": "quantity", "value": "quantity", "storage": "quantity", "size": "quantity",
    "label_selector": "selector", "selector": "selector",
}
_SAMPLES = {"name": "example", "label": "example", "integer": "1", "quantity": "1", "selector": "app=example",
            "mac": "02:00:00:00:00:01"}
_HELP = {
    "name": "a Kubernetes object name (DNS-1123: lowercase letters, digits, '-' and '.', up to 253)",
    "label": "a DNS-1123 label (lowercase letters, digits and '-', up to 63)",
    "integer": "a whole number (0-999999)",
    "quantity": "a Kubernetes quantity such as 500m, 1.5, 512Mi or 2Gi",
    "selector": "an equality label selector such as app=web,tier!=cache",
    "mac": "a MAC address such as 02:00:00:aa:bb:cc",
}


class PlaceholderError(ValueError):
    """A context value that may not be used; the message says what is expected."""


def kind_of(name: str) -> str:
    """The rule a key's values follow: exact keys first, then what the name ends with
    (`cdi_namespace` is a namespace, `virt_launcher_pod` an object name)."""
    if name in _KINDS:
        return _KINDS[name]
    if name.endswith(("namespace", "_ns")) or name in ("ns", "project", "container") or name.endswith("_container"):
        return "label"
    if name.endswith("selector"):
        return "selector"
    if name.endswith(("_replicas", "_revision", "_port", "_count")):
        return "integer"
    if name == "mac" or name.endswith(("_mac", "mac_address")):
        return "mac"
    return "name"


def dns_name(value: str) -> bool:
    """A DNS-1123 subdomain: the strict rule for a name that goes into an API path."""
    return len(value) <= MAX_VALUE and _DNS_SUBDOMAIN.fullmatch(value) is not None


def _implied_kind(key: str) -> str | None:
    from .vocabulary import ALIAS  # the kind a key's name points at: pod_name -> pods

    words = [w for w in key.split("_") if w not in ("name", "id")]
    return ALIAS.get(words[-1]) if words else None


def _ref_ok(key: str, text: str) -> bool:
    """`pod/web-1` for a pod key: the type must be the key's own kind, so a value bound from
    `-o name` cannot turn a pod step into a step on another kind (`secrets/db`)."""
    m = _REF.fullmatch(text)
    if not m or not dns_name(m.group(3)):
        return False
    from .vocabulary import ALIAS

    implied = _implied_kind(key)
    return implied is not None and ALIAS.get(m.group(1)) == implied


def sample_value(name: str) -> str:
    """A harmless valid value, used to classify a step whose context value is missing."""
    return _SAMPLES[kind_of(name)]


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "...'"


def validate(name: str, value: object) -> str:
    """The value as a string, or PlaceholderError naming the placeholder and the rule."""
    kind = kind_of(name)
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise PlaceholderError(f"context value {name!r} must be {_HELP[kind]}, not a {type(value).__name__}")
    text = str(value)
    if len(text) > MAX_VALUE:
        # Over-long input: no Kubernetes name is longer, and huge values hide payloads.
        raise PlaceholderError(f"context value {name!r} is {len(text)} characters; the limit is {MAX_VALUE}")
    if not text.isascii():
        # Unicode look-alikes (fullwidth dashes, Cyrillic letters) can pass a visual review
        # while naming a different object or smuggling a flag.
        raise PlaceholderError(f"context value {name!r}={_show(text)} contains non-ASCII characters; "
                               f"it must be {_HELP[kind]}")
    if text.startswith("-"):
        # A leading dash would turn a value into a flag (e.g. '--kubeconfig=/x').
        raise PlaceholderError(f"context value {name!r}={_show(text)} starts with '-' and would become a flag; "
                               f"it must be {_HELP[kind]}")
    ok = {
        "name": lambda t: _DNS_SUBDOMAIN.fullmatch(t) is not None or _ref_ok(name, t),
        "label": lambda t: len(t) <= 63 and _DNS_LABEL.fullmatch(t) is not None,
        "integer": lambda t: _INTEGER.fullmatch(t) is not None,
        "quantity": lambda t: _QUANTITY.fullmatch(t) is not None,
        "selector": lambda t: all(_SELECTOR_TERM.fullmatch(term) for term in t.split(",")),
        "mac": lambda t: _MAC.fullmatch(t) is not None,
    }[kind](text)
    if not ok:
        # Shell metacharacters, spaces, quotes, newlines and NUL all fail these patterns, so
        # `default; rm -rf /`, `$(id)` and `a\n--as=admin` never reach a command.
        raise PlaceholderError(f"context value {name!r}={_show(text)} is not {_HELP[kind]}")
    return text


def fill(token: str, context: dict, missing: set[str]) -> str:
    """Replace every placeholder in one token; missing values get a sample and are recorded."""

    def repl(match: re.Match) -> str:
        name = match.group(1)
        if name not in context or context[name] in (None, ""):
            missing.add(name)
            return sample_value(name)
        return validate(name, context[name])

    return PLACEHOLDER.sub(repl, token)


def flatten_context(context: dict | None) -> dict:
    """The spec's nested context ({'resource': {'type','name'}}) flattened to placeholder names;
    a key given in another style (`NAMESPACE`, `pod`) also answers its canonical key."""
    from .names import key_for

    flat: dict = {}
    for key, value in (context or {}).items():
        flat[str(key)] = value  # a nested value used as a placeholder is refused by validate()
        if isinstance(value, dict):
            for sub, subval in value.items():
                flat.setdefault(f"{key}_{sub}", subval)
    for key in list(flat):
        flat.setdefault(key_for(key), flat[key])
    return flat
