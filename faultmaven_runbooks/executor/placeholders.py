"""Context values for `{placeholders}`: validated by type before they touch a command.

Values are substituted into tokens *after* the command line was split, and every value must
match a strict pattern (DNS-1123 name, label selector, integer, quantity), so a value can never
become a flag, a second argument or a second command.
"""

from __future__ import annotations

import re

PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
MAX_VALUE = 253

# DNS-1123 subdomain: what Kubernetes accepts for most object names and namespaces.
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
# DNS-1123 label: namespaces and container names.
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_INTEGER = re.compile(r"^[0-9]{1,6}$")
# Kubernetes resource quantity (CPU, memory, storage): 500m, 1.5, 512Mi, 2G.
_QUANTITY = re.compile(r"^[0-9]{1,9}(\.[0-9]{1,6})?(m|k|M|G|T|P|Ki|Mi|Gi|Ti|Pi)?$")
_LABEL_KEY = r"([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
_LABEL_VALUE = r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?"
# Equality-based selectors only (k=v, k==v, k!=v, k, !k), comma-separated.
_SELECTOR_TERM = re.compile(rf"^(!?{_LABEL_KEY}|{_LABEL_KEY}(=|==|!=){_LABEL_VALUE})$")
_REVISION = _INTEGER

# Which pattern each placeholder name must match; unknown names default to a DNS-1123 name.
_KINDS: dict[str, str] = {
    "namespace": "label", "container": "label",
    "replicas": "integer", "revision": "integer", "min_replicas": "integer", "max_replicas": "integer",
    "tail": "integer", "grace_period": "integer", "port": "integer",
    "memory_limit": "quantity", "memory_request": "quantity", "cpu_limit": "quantity",
    "cpu_request": "quantity", "value": "quantity", "storage": "quantity", "size": "quantity",
    "label_selector": "selector", "selector": "selector",
}
_SAMPLES = {"name": "example", "label": "example", "integer": "1", "quantity": "1", "selector": "app=example"}
_HELP = {
    "name": "a Kubernetes object name (DNS-1123: lowercase letters, digits, '-' and '.', up to 253)",
    "label": "a DNS-1123 label (lowercase letters, digits and '-', up to 63)",
    "integer": "a whole number (0-999999)",
    "quantity": "a Kubernetes quantity such as 500m, 1.5, 512Mi or 2Gi",
    "selector": "an equality label selector such as app=web,tier!=cache",
}


class PlaceholderError(ValueError):
    """A context value that may not be used; the message says what is expected."""


def kind_of(name: str) -> str:
    return _KINDS.get(name, "name")


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
        "name": lambda t: _DNS_SUBDOMAIN.fullmatch(t) is not None,
        "label": lambda t: len(t) <= 63 and _DNS_LABEL.fullmatch(t) is not None,
        "integer": lambda t: _INTEGER.fullmatch(t) is not None,
        "quantity": lambda t: _QUANTITY.fullmatch(t) is not None,
        "selector": lambda t: all(_SELECTOR_TERM.fullmatch(term) for term in t.split(",")),
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
    """The spec's nested context ({'resource': {'type','name'}}) flattened to placeholder names."""
    flat: dict = {}
    for key, value in (context or {}).items():
        flat[str(key)] = value  # a nested value used as a placeholder is refused by validate()
        if isinstance(value, dict):
            for sub, subval in value.items():
                flat.setdefault(f"{key}_{sub}", subval)
    return flat
