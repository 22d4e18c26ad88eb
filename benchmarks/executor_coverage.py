"""How many kubectl commands in the shipped runbooks run as typed operations, and why the rest do not.

    .venv/bin/python benchmarks/executor_coverage.py [--library runbooks] [--policy FILE] [--list]

Each step is parsed with placeholder values missing (sample values stand in), then checked
against the policy (built-in defaults unless --policy is given). Nothing talks to a cluster.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from faultmaven_runbooks.executor.planner import build_plan  # noqa: E402
from faultmaven_runbooks.executor.policy import load_policy  # noqa: E402
from faultmaven_runbooks.library.store import RunbookLibrary  # noqa: E402


def reason_class(reason: str) -> str:
    """Group free-text reasons into a few buckets for the table."""
    rules = [
        (r"credential/target|kubeconfig credentials", "credential/target flags"), (r"is not kubectl", "not kubectl"), (r"kubectl (exec|cp|attach|run|debug)", "exec/cp/run/debug"),
        (r"kubectl (create|apply|replace|edit)", "create/apply/edit"), (r"kubectl drain", "drain"),
        (r"shell|pipe|redirection|separator|&&|<placeholder>|quote", "shell syntax or <placeholder>"),
        (r"bulk|-A/--all-namespaces|--all", "bulk (-A, --all, selectors on changes)"),
        (r"Secret|RBAC", "secrets/RBAC"), (r"not a valid Kubernetes", "invalid name"),
        (r"destructive|allow_force_delete", "destructive verb beyond policy"), (r"names no|needs a", "incomplete command (a prose mention)"), (r"namespace .* outside", "namespace not allowed"),
        (r"flag .* not supported|output format", "unsupported flag/format"),
        (r"resource type|not supported", "unsupported kind/verb"), (r"patch", "patch refused"),
    ]
    for pattern, label in rules:
        if re.search(pattern, reason):
            return label
    return "other"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--library", type=Path, default=Path(__file__).resolve().parent.parent / "runbooks")
    ap.add_argument("--policy", type=Path, default=None)
    ap.add_argument("--list", action="store_true", help="print every non-runnable command with its reason")
    args = ap.parse_args()
    policy = load_policy(args.policy)
    library = RunbookLibrary(args.library)
    counts: Counter = Counter()
    reasons: Counter = Counter()
    unique: dict[str, tuple[str, str]] = {}
    files = 0
    for _, (_, runbook) in sorted(library.scan().items()):
        files += 1
        plan, _ = build_plan(runbook, {}, policy)
        for p in plan:
            raw = next(s.command for s in runbook.steps if s.number == p.number)
            if not raw.startswith("kubectl"):
                counts["other tools (not kubectl)"] += 1
                continue
            counts["kubectl total"] += 1
            cls = p.classification
            counts[cls] += 1
            if cls in ("manual", "refused"):
                reasons[f"{cls}: {reason_class(p.parsed.reason or '')}"] += 1
                unique.setdefault(raw, (cls, p.parsed.reason or ""))
    total = counts["kubectl total"] or 1
    runnable = counts["read"] + counts["change"]
    print(f"library: {args.library} ({files} runbooks); policy: {policy.source}")
    print(f"kubectl commands: {counts['kubectl total']}   (other tools, always manual: {counts['other tools (not kubectl)']})")
    print(f"runnable as typed operations: {runnable} ({100 * runnable / total:.0f}%)  "
          f"= {counts['read']} read + {counts['change']} change")
    print(f"manual: {counts['manual']}   refused: {counts['refused']}")
    for label, n in reasons.most_common():
        print(f"  {n:4d}  {label}")
    if args.list:
        for raw, (cls, reason) in sorted(unique.items()):
            print(f"- [{cls}] {raw}\n    {reason}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
