"""How the executor reads runbooks: steps by role, alternatives and rollbacks recognised, default
plans that would change anything (must be 0), which kubectl and oc commands run as typed
operations (set-up lines `VAR=$(kubectl ...)` included) and why the others do not, and the size
of `execute` results.

    .venv/bin/python benchmarks/executor_coverage.py [--library DIR ...] [--policy FILE] [--list] [--no-sizes]

Default libraries: the shipped runbooks/, ../shared/eval/prometheus-operator-runbooks,
../shared/eval/extra-corpora/kubevirt-runbooks and the OpenShift-style corpus the tests carry
(tests/executor/fixtures/openshift-runbooks).
Plans are built with no context (missing values stand in as samples) and checked against the
policy (built-in defaults unless --policy is given); nothing talks to a cluster except the
result-size run, which executes every default plan against the tests' fake API server.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
from collections import Counter
from pathlib import Path

from _common import EVAL, ROOT, percentile, table

from faultmaven_runbooks.executor.models import ExecuteParameters
from faultmaven_runbooks.executor.operation import Manual, Refused
from faultmaven_runbooks.executor.planner import analyse, select
from faultmaven_runbooks.executor.policy import load_policy
from faultmaven_runbooks.executor.shellwords import lex, plain
from faultmaven_runbooks.executor.structure import align
from faultmaven_runbooks.library.store import RunbookLibrary

ROLES = ("diagnose", "mitigate", "verify", "rollback")


def tool_of(command: str) -> str | None:
    """kubectl or oc when the line runs one (itself, or in a set-up line's `$(...)`), else None."""
    try:
        line = lex(command)
    except (Manual, Refused):
        first = command.split(" ", 1)[0]
        return first if first in ("kubectl", "oc") else None
    stages = line.commands
    if not stages and line.assignments:
        inner = [p.line for _, word in line.assignments for p in word if p.kind == "subst"]
        stages = inner[0].commands if inner else []
    tool = plain(stages[0][0]) if stages and stages[0] else None
    return tool if tool in ("kubectl", "oc") else None


def reason_class(reason: str) -> str:
    """Group free-text reasons into a few buckets for the table."""
    rules = [
        (r"credential/target|kubeconfig credentials|credentials this client", "credential/target flags"),
        (r"is not kubectl", "not kubectl"),
        (r"(kubectl|oc) (exec|cp|attach|run|debug|rsh|rsync)|oc adm must-gather|remote code|debug pod",
         "exec/rsh/cp/run/debug"),
        (r"(kubectl|oc) (create|apply|replace|edit|new-|start-build|process|expose)", "create/apply/edit"),
        (r"kubectl drain|oc adm drain", "drain"),
        (r"pipes into|pipes the output|a shell would|second command|jq program|awk program|grep option",
         "shell pipeline beyond the read-only filters"),
        (r"shell|pipe|redirection|separator|&&|here-document|quote|expansion", "other shell syntax"),
        (r"bulk|-A/--all-namespaces|--all", "bulk (-A, --all, selectors on changes)"),
        (r"Secret|RBAC", "secrets/RBAC"), (r"not a valid Kubernetes", "invalid name"),
        (r"destructive|force delete", "destructive verb beyond policy"),
        (r"names no|needs a", "incomplete command (a prose mention)"),
        (r"namespace .* outside", "namespace not allowed"),
        (r"flag .* not supported|output format", "unsupported flag/format"),
        (r"resource type|not supported", "unsupported kind/verb"), (r"patch|max_replicas", "patch refused"),
    ]
    for pattern, label in rules:
        if re.search(pattern, reason):
            return label
    return "other"


def cover(library: Path, policy, listing: bool) -> dict:
    lib = RunbookLibrary(library)
    counts: Counter = Counter()
    reasons: Counter = Counter()
    roles: Counter = Counter()
    unique: dict[str, tuple[str, str]] = {}
    changing_defaults: list[str] = []
    files = with_options = 0
    for _, (_, runbook) in sorted(lib.scan().items()):
        files += 1
        shapes = align(runbook)
        counts["mentions"] += sum(s.mention for s in shapes.values())
        plan = analyse(runbook, {}, policy)
        roles.update(p.role for p in plan.every.values())
        counts["options"] += len(plan.options)
        counts["rollbacks"] += len(plan.rollbacks)
        with_options += len(plan.options) >= 2
        default = select(analyse(runbook, {}, policy), ExecuteParameters(), runbook)
        if any(p.is_change for p in default.steps):
            changing_defaults.append(runbook.id)
        for p in plan.every.values():
            raw = next(s.command for s in runbook.steps if s.number == p.number)
            tool = tool_of(raw)
            if tool is None:
                counts["other tools (not kubectl)"] += 1
                continue
            counts["kubectl total"] += 1
            counts[f"tool {tool}"] += 1
            counts[p.classification] += 1
            if p.classification in ("manual", "refused"):
                reasons[f"{p.classification}: {reason_class(p.parsed.reason or '')}"] += 1
                unique.setdefault(raw, (p.classification, p.parsed.reason or ""))
    total, runnable = counts["kubectl total"] or 1, counts["read"] + counts["change"] + counts["setup"]
    print(f"\n== {library} ({files} runbooks); policy: {policy.source}")
    print(table(["steps", *ROLES, "mentions (not steps)"],
                [[sum(roles.values()), *(roles[r] for r in ROLES), counts["mentions"]]]))
    print(table(["alternatives (options)", "runbooks with 2+ options", "rollbacks offered",
                 "default plans with a change"],
                [[counts["options"], with_options, counts["rollbacks"], len(changing_defaults)]]))
    if changing_defaults:
        print("  default plans that change something:", ", ".join(changing_defaults))
    print(f"kubectl/oc commands: {counts['kubectl total']} ({counts['tool kubectl']} kubectl, {counts['tool oc']} oc; "
          f"other tools, always manual: {counts['other tools (not kubectl)']}); "
          f"runnable as typed operations: {runnable} ({100 * runnable / total:.0f}%) = {counts['read']} read + "
          f"{counts['change']} change + {counts['setup']} set-up; "
          f"manual {counts['manual']}, refused {counts['refused']}")
    for label, n in reasons.most_common():
        print(f"  {n:4d}  {label}")
    if listing:
        for raw, (cls, reason) in sorted(unique.items()):
            print(f"- [{cls}] {raw}\n    {reason}")
    return {"changing_defaults": len(changing_defaults), "commands": counts["kubectl total"], "typed": runnable,
            "other": counts["other tools (not kubectl)"]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--library", type=Path, action="append", default=None)
    ap.add_argument("--policy", type=Path, default=None)
    ap.add_argument("--list", action="store_true", help="print every non-runnable command with its reason")
    ap.add_argument("--no-sizes", action="store_true", help="skip executing default plans against the fake API")
    args = ap.parse_args()
    libraries = args.library or [ROOT / "runbooks", EVAL / "prometheus-operator-runbooks",
                                 EVAL / "extra-corpora" / "kubevirt-runbooks",
                                 ROOT / "tests" / "executor" / "fixtures" / "openshift-runbooks"]
    policy = load_policy(args.policy)
    bad = 0
    summary = []
    for library in libraries:
        if not library.is_dir():
            print(f"\n== {library}: not found, skipped")
            continue
        found = cover(library, policy, args.list)
        bad += found["changing_defaults"]
        n = found["commands"] or 1
        summary.append([library.name if library.name != "content" else library.parent.name,
                        f"{found['commands']} (+{found['other']} other)",
                        f"{found['typed']} ({100 * found['typed'] / n:.0f}%)",
                        found["changing_defaults"]])
        if not args.no_sizes:
            from execute_result_size import measure

            sizes = [n for n, _ in measure(library).values()]
            print(table(["execute results", "median chars", "p90 chars", "max chars"],
                        [[len(sizes), int(statistics.median(sizes)), int(percentile(sizes, 90)), max(sizes)]]))
    print("\n" + table(["library", "kubectl/oc commands", "run as typed operations", "default plans with a change"],
                        summary))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
