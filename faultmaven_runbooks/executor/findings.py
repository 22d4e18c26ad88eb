"""What the reads showed, as findings; and recommendations that cite them.

Works on the raw objects the gateway read (pods, events, nodes, HPAs), the log text, the
rollout history and metrics. Each finding says one fact with its subject ("pod web-1 container
app last terminated OOMKilled (exit 137, SIGKILL)"), found once however many steps read it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .models import Finding, Option

_SIGNALS = {1: "SIGHUP", 2: "SIGINT", 6: "SIGABRT", 9: "SIGKILL", 11: "SIGSEGV", 15: "SIGTERM"}
WARNING_REASONS = ("BackOff", "FailedScheduling", "FailedMount", "FailedAttachVolume", "Unhealthy", "Failed",
                   "ErrImagePull", "ImagePullBackOff", "Evicted", "OOMKilling", "FailedCreate", "ProbeWarning")
_LOG_ERROR = re.compile(r"\b(error|err|fatal|panic|exception|traceback|fail(ed|ure)?|refused|denied|timed? ?out|"
                        r"not set|missing|cannot|can't|unable|killed|out of memory|oom)\b", re.I)
_MEMORY = re.compile(r"out of memory|\boom|memory limit|heap", re.I)
_IMAGE_PULL = ("ImagePullBackOff", "ErrImagePull", "InvalidImageName")
MAX_FINDINGS = 25


def _g(obj, *path, default=None):
    for key in path:
        if not isinstance(obj, dict):
            return default
        obj = obj.get(key)
    return default if obj is None else obj


def _exit(term: dict) -> str:
    code = term.get("exitCode")
    bits = [str(term.get("reason") or "terminated")]
    if code is not None:
        signal = _SIGNALS.get(code - 128) if isinstance(code, int) and code > 128 else None
        bits.append(f"exit {code}" + (f", {signal}" if signal else ""))
    message = str(term.get("message") or "").strip().splitlines()
    return " ".join([bits[0], f"({', '.join(bits[1:])})" if bits[1:] else ""]).strip() + (
        f": {message[0][:120]!r}" if message else "")


@dataclass
class _Found:
    kind: str
    subject: str
    text: str
    step: int | None


class Analysis:
    """Collects findings across the steps of one execution."""

    def __init__(self) -> None:
        self._found: dict[tuple[str, str], _Found] = {}

    def add(self, kind: str, subject: str, text: str, step: int | None) -> None:
        if len(self._found) < MAX_FINDINGS:
            self._found.setdefault((kind, subject), _Found(kind, subject, text, step))

    def read(self, step: int | None, kind: str, obj: dict) -> None:
        handler = getattr(self, "_" + kind.replace("-", "_"), None)
        if handler is not None:
            handler(step, obj)

    def findings(self) -> list[Finding]:
        return [Finding(id=f"F{i}", step=f.step, kind=f.kind, text=f.text)
                for i, f in enumerate(self._found.values(), 1)]

    # -- per kind ------------------------------------------------------------------------------
    def _pods(self, step, pod: dict) -> None:
        name = _g(pod, "metadata", "name", default="?")
        phase = _g(pod, "status", "phase", default="Unknown")
        if phase in ("Pending", "Failed", "Unknown"):
            reason = _g(pod, "status", "reason") or _g(pod, "status", "message", default="")
            self.add("pod_phase", name, f"pod {name} is {phase}" + (f" ({str(reason)[:120]})" if reason else ""), step)
        for cs in _g(pod, "status", "containerStatuses", default=[]):
            who = f"pod {name} container {cs.get('name')}"
            waiting = _g(cs, "state", "waiting", default={})
            now_term = _g(cs, "state", "terminated", default={})
            last = _g(cs, "lastState", "terminated", default={})
            parts = []
            if waiting.get("reason"):
                parts.append(f"waiting: {waiting['reason']}"
                             + (f" ({str(waiting.get('message'))[:100]})" if waiting.get("message") else ""))
            if now_term:
                parts.append(f"terminated {_exit(now_term)}")
            if cs.get("restartCount"):
                parts.append(f"restarted {cs['restartCount']} times")
            if last:
                parts.append(f"last terminated {_exit(last)}")
            if parts and (waiting.get("reason") or now_term or last or not cs.get("ready")):
                kind = "image_pull" if waiting.get("reason") in _IMAGE_PULL \
                    else "oomkilled" if "OOMKilled" in (last.get("reason"), now_term.get("reason")) \
                    else "crashloop" if waiting.get("reason") == "CrashLoopBackOff" else "container"
                self.add(kind, who, f"{who}: " + "; ".join(parts), step)

    def _events(self, step, ev: dict) -> None:
        if ev.get("type") != "Warning" or ev.get("reason") not in WARNING_REASONS:
            return
        obj = ev.get("involvedObject") or {}
        subject = f"{str(obj.get('kind', '')).lower()}/{obj.get('name', '')}"
        count = ev.get("count") or 1
        self.add("event", f"{subject}:{ev.get('reason')}",
                 f"warning event {ev.get('reason')} x{count} on {subject}: {str(ev.get('message', ''))[:140]}", step)

    def _log(self, step, log: dict) -> None:
        lines = []
        for line in str(log.get("text", "")).splitlines():
            line = line.strip()
            if line and _LOG_ERROR.search(line) and line[:160] not in lines:
                lines.append(line[:160])
        if lines:
            where = f"{log.get('pod')}" + (f"/{log['container']}" if log.get("container") else "") + \
                (" (previous container)" if log.get("previous") else "")
            # the same lines read twice (with and without -c) are one finding
            kind = "log_oom" if any(_MEMORY.search(x) for x in lines) else "log_error"
            tail = " | ".join(repr(x) for x in lines[-3:])
            self.add(kind, f"{log.get('pod')}:{lines[-3:]}", f"logs of {where}: {tail}", step)

    def _history(self, step, history: dict) -> None:
        revisions = history.get("revisions") or []
        if len(revisions) < 2:
            return
        prev, cur = revisions[-2], revisions[-1]
        changed = [f"{k} {prev['images'].get(k)} -> {v}" for k, v in cur["images"].items()
                   if prev["images"].get(k) != v]
        what = "; ".join(changed) if changed else "the pod template (not the images)"
        self.add("rollout_change", f"{history.get('kind')}/{history.get('name')}",
                 f"{history.get('kind')} {history.get('name')}: revision {cur['revision']} (current) changed {what} "
                 f"from revision {prev['revision']}", step)

    def _usage(self, step, usage: dict) -> None:
        for resource in ("memory", "cpu"):
            used, limit = usage.get(f"{resource}_used"), usage.get(f"{resource}_limit")
            if used and limit and used >= 0.8 * limit:
                self.add("usage_near_limit", f"{usage.get('pod')}/{usage.get('container')}:{resource}",
                         f"pod {usage.get('pod')} container {usage.get('container')} uses {used / limit:.0%} of its "
                         f"{resource} limit ({usage.get(f'{resource}_shown')})", step)

    def _nodes(self, step, node: dict) -> None:
        name = _g(node, "metadata", "name")
        for c in _g(node, "status", "conditions", default=[]):
            bad = (c.get("type") == "Ready" and c.get("status") != "True") or \
                (str(c.get("type", "")).endswith("Pressure") and c.get("status") == "True")
            if bad:
                reason = f" ({c.get('reason')})" if c.get("reason") else ""
                self.add("node_condition", f"{name}:{c.get('type')}",
                         f"node {name}: {c.get('type')}={c.get('status')}{reason}", step)

    def _horizontalpodautoscalers(self, step, hpa: dict) -> None:
        current, most = _g(hpa, "status", "currentReplicas", default=0), _g(hpa, "spec", "maxReplicas")
        if most is not None and current >= most:
            name = _g(hpa, "metadata", "name")
            self.add("hpa_maxed", name, f"HPA {name} runs at maxReplicas ({current}/{most})", step)

    def _rollout(self, step, status: dict) -> None:
        if not status.get("done"):
            self.add("rollout_stuck", status.get("name", ""), status.get("text", ""), step)


# Which alternatives a kind of finding points to: words of an option's label or commands.
_POINTS_TO = {
    "oomkilled": ("memory", "set resources", "limit"),
    "usage_near_limit": ("memory", "set resources", "limit", "cpu"),
    "log_oom": ("memory", "set resources", "limit"),
    "rollout_change": ("rollout undo", "roll back", "revision"),
    "image_pull": ("image", "rollout undo"),
    "hpa_maxed": ("maxreplicas", "hpa", "scale"),
    "pod_phase": ("resources", "requests", "schedul"),
}


def recommend(findings: list[Finding], options: list[Option], commands: dict[int, str]) -> list[str]:
    """One line per alternative fix the findings point to, citing them: what was read, never a
    request to read it again. A crash after a rollout is evidence for rolling that rollout back."""
    crashes = [f for f in findings if f.kind in ("crashloop", "container", "log_error")]
    rolled = any(f.kind == "rollout_change" for f in findings)
    out = []
    for option in options:
        text = (option.label + " " + " ".join(commands.get(n, "") for n in option.steps)).lower()
        cited = [f for f in findings if any(w in text for w in _POINTS_TO.get(f.kind, ()))]
        if cited and rolled and any(w in text for w in _POINTS_TO["rollout_change"]):
            cited += [f for f in crashes if f not in cited]
        if cited:
            evidence = "; ".join(f"{f.id}: {f.text[:140]}" for f in cited[:3])
            out.append(f"option {option.id} ({option.label[:80]}, steps {', '.join(map(str, option.steps))}) fits "
                       f"{evidence}. Run it with option='{option.id}'")
    return out[:8]
