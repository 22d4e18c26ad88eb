"""API discovery: which group, version and plural serve a resource word, as kubectl resolves it.

Reads `/api/v1`, `/apis` and `/apis/GROUP/VERSION` lazily, in the process, for the gateway's
lifetime (refreshed after `ttl` seconds, so a CRD installed later is found). The `kubernetes`
package's dynamic client would do the same but keeps its discovery cache in a file with a
predictable name in the shared temp directory, which another local user could write first
and so point a resource word at another API path; nothing here touches the filesystem.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Resource:
    plural: str
    group: str  # "" for the core group
    version: str
    kind: str
    namespaced: bool

    def path(self, namespace: str | None, name: str | None = None) -> str:
        base = f"/api/{self.version}" if not self.group else f"/apis/{self.group}/{self.version}"
        where = f"/namespaces/{namespace}" if self.namespaced and namespace else ""
        return f"{base}{where}/{self.plural}" + (f"/{name}" if name else "")


class NotServed(LookupError):
    """The cluster serves no resource by that name."""


class Discovery:
    def __init__(self, get_json: Callable[[str], dict], ttl: float = 600.0):
        self.get_json = get_json
        self.ttl = ttl
        self._groups: list[tuple[str, str]] | None = None  # (group, preferred version)
        self._lists: dict[str, list[Resource]] = {}
        self._short: dict[tuple[str, str], str] = {}  # (group/version, short or singular name) -> plural
        self._when = 0.0

    def _fresh(self) -> None:
        if time.monotonic() - self._when > self.ttl:
            self._groups, self._lists, self._short, self._when = None, {}, {}, time.monotonic()

    def groups(self) -> list[tuple[str, str]]:
        self._fresh()
        if self._groups is None:
            data = self.get_json("/apis")
            self._groups = [("", "v1")] + [(g["name"], (g.get("preferredVersion") or g["versions"][0])["version"])
                                           for g in data.get("groups") or [] if g.get("versions")]
        return self._groups

    def resources(self, group: str, version: str) -> list[Resource]:
        self._fresh()
        gv = version if not group else f"{group}/{version}"
        if gv not in self._lists:
            data = self.get_json(f"/api/{version}" if not group else f"/apis/{gv}")
            self._lists[gv] = [Resource(r["name"], group, version, r.get("kind", ""), bool(r.get("namespaced")))
                               for r in data.get("resources") or [] if "/" not in r.get("name", "")]
            for r in data.get("resources") or []:
                for short in r.get("shortNames") or []:
                    self._short[(gv, short)] = r["name"]
                if r.get("singularName"):
                    self._short[(gv, r["singularName"])] = r["name"]
        return self._lists[gv]

    def resolve(self, word: str, group: str | None = None) -> Resource:
        """The resource for a word (plural, singular, short name or Kind), preferring `group` if
        the runbook or the executor's table named one; the core group wins ties, like kubectl."""
        word = word.lower()
        # `network.config` names config.openshift.io the way kubectl allows: a group or its first labels
        candidates = [(g, v) for g, v in self.groups()
                      if group in (None, "?") or g == group or g.startswith(f"{group}.")]
        if not candidates and group not in (None, "?"):
            raise NotServed(f"the cluster serves no API group {group!r}")
        for g, v in candidates:
            gv = v if not g else f"{g}/{v}"
            for r in self.resources(g, v):
                if word in (r.plural, r.kind.lower()) or self._short.get((gv, word)) == r.plural:
                    return r
        where = f" in API group {group}" if group not in (None, "?") else ""
        raise NotServed(f"the server doesn't have a resource type {word!r}{where}")
