"""What a query is about, apart from where it happened.

A rendered alert says "Alertmanager payments/checkout-api-7d9f8b6c5-x2k4q failed to send 2.6% of
notifications" or "CPU usage at 10.0.3.17:9100 is above 90%". The namespace, pod, address, host
and numbers are context: they match any runbook that happens to mention 'checkout' or 'api' and
say nothing about which runbook applies. They are taken out of the text that is matched and
embedded; what remains is the topic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .text import identifier_parts, looks_like_identifier, name_key

# Each pattern is a kind of value, never a word of prose. Order matters: URLs before paths.
_CONTEXT = [
    r"https?://\S+",
    r"\{\{.*?\}\}",  # an unrendered template
    r"<[a-z_][a-z0-9_]*>",  # a placeholder such as <handler> or <poddisruptionbudget>
    r"\$labels\.\w+",
    r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b",  # IPv4, optionally with a port
    r"\b(?:[0-9a-f]{1,4}:){3,7}[0-9a-f]{1,4}\b",  # IPv6
    r"\b[\w-]+(?:\.[\w-]+){2,}(?::\d+)?\b",  # a host or domain name: ip-10-0-3-17.ec2.internal
    r"\b[\w.-]+:\d{2,5}\b",  # host:port
    r"(?<![\w/])/(?:[\w.@-]+/)*[\w.@-]+",  # an absolute path: a device or a mount point
    r"\b[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?(?:/[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?)+\b",  # namespace/pod
    r"\b\d+(?:\.\d+)?(?:%|ms|s|m|h|d|[kmgt]i?b)?(?=\W|$)",  # numbers, sizes, percentages, durations
    r"[\"'“‘][^\s\"'”’]{1,80}[\"'”’]",  # a quoted single value: cluster "node-exporter"
]
_CONTEXT_RE = re.compile("|".join(f"(?:{p})" for p in _CONTEXT), re.I)
_GENERATED_NAME = re.compile(
    r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*-(?:\d+|[a-z0-9]{5}|[a-f0-9]{6,10}-[a-z0-9]{5})$"
)
_WORDS = re.compile(r"\S+")
_KEEP_IN_PATH = re.compile(r"[A-Z]")  # 'LIST/WATCH' is prose, 'payments/api-0' is a value
NAME_ONLY_WORDS = 3


def _is_generated_name(token: str) -> bool:
    """Names Kubernetes makes up for pods, jobs and claims: checkout-api-7d9f8b6c5-x2k4q,
    data-orders-db-0, nightly-report-28934. The last segment must hold a digit or be a pod
    hash, so 'node-exporter' and 'kube-state-metrics' stay words."""
    core = token.strip(".,;:()[]")
    if not _GENERATED_NAME.match(core):
        return False
    last = core.rsplit("-", 1)[1]
    return last.isdigit() or any(ch.isdigit() for ch in core.split("-", 1)[1])


def split_context(text: str) -> tuple[str, list[str]]:
    """(topic text, context values): values replaced by a space, so words do not fuse."""
    found: list[str] = []

    def drop(match: re.Match) -> str:
        value = match.group()
        if "/" in value and not value.startswith("/") and "://" not in value and _KEEP_IN_PATH.search(value):
            return value
        if re.fullmatch(r"\d+", value):  # an integer alone may be the topic: exit code 137, HTTP 502
            return value
        found.append(value)
        if value.startswith("/") and value.count("/") <= 2:  # a short path names a thing: /dev/kvm
            last = value.rstrip("/").rsplit("/", 1)[-1]
            return f" {last} " if last.isalpha() else " "
        return " "

    topic = _CONTEXT_RE.sub(drop, text)
    words = []
    for word in _WORDS.findall(topic):
        if _is_generated_name(word):
            found.append(word)
        else:
            words.append(word)
    return " ".join(words), found


def is_name_only(text: str) -> bool:
    """A query that is only a name or code or two ('KubeAPIDown', 'ENOSPC x509')."""
    words = text.split()
    return 0 < len(words) <= NAME_ONLY_WORDS and all(looks_like_identifier(w.strip(".,;:()")) for w in words)


@dataclass
class QueryText:
    raw: str
    topic: str  # what is embedded and matched
    context: list[str] = field(default_factory=list)
    names: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)  # (key, parts) of named things
    name_only: bool = False

    @classmethod
    def parse(cls, raw: str, context_values: list[str] | None = None) -> QueryText:
        text = raw
        extra = []
        for value in sorted(context_values or [], key=len, reverse=True):
            if value and len(value) > 1 and value in text:
                text = text.replace(value, " ")
                extra.append(value)
        topic, found = split_context(text)
        topic = topic.strip() or raw.strip()  # a query that is all values is still a query
        names = []
        seen = set()
        for word in re.findall(r"[A-Za-z0-9][A-Za-z0-9_.-]*[A-Za-z0-9]", topic):
            if looks_like_identifier(word):
                key = name_key(word)
                if key not in seen:
                    seen.add(key)
                    names.append((key, identifier_parts(word)))
        words = topic.split()
        if len(words) == 1 and len(name_key(topic)) >= 4 and name_key(topic) not in seen:  # 'Watchdog'
            names.append((name_key(topic), identifier_parts(topic)))
        if 1 < len(words) <= 6:  # 'node raid disk failure' names NodeRAIDDiskFailure too
            key = name_key(topic)
            if key not in seen:
                names.append((key, tuple(p for w in words for p in identifier_parts(w))))
        return cls(raw=raw, topic=topic, context=extra + found, names=names, name_only=is_name_only(topic))
