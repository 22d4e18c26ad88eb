"""CLI commands: `approve EXECUTION_ID [--reject] --approver NAME` and `executions`.

The CLI is an approval channel the model cannot use on its own: it runs on an operator's
machine with the operator's name, outside any MCP session.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable

from .args import add_paths


def add_cli(subparsers, make_service: Callable[[argparse.Namespace], object]) -> None:
    def cmd_approve(args: argparse.Namespace) -> int:
        executions = make_service(args).executions
        decision = "reject" if args.reject else "approve"
        if not args.yes and not args.reject:
            record = executions.get(args.execution_id)
            print(f"Execution {record.execution_id} of runbook {record.runbook_id}, requested by {record.requester}:")
            for step in record.steps:
                if step.result == "pending_approval":
                    print(f"  step {step.step}: {step.command}\n{step.diff or ''}")
            if input("Apply these changes? [y/N] ").strip().lower() not in ("y", "yes"):
                print("not approved")
                return 1
        result = executions.approve(args.execution_id, args.approver, decision, args.reason)
        print(json.dumps({"execution_id": result.execution_id, "status": result.status,
                          "approval": result.approval.model_dump() if result.approval else None,
                          "steps": [{"step": s.step, "result": s.result, "reason": s.reason}
                                    for s in result.steps if s.classification == "change"]}, indent=2))
        return 0 if result.status in ("completed", "rejected") else 1

    approve = subparsers.add_parser("approve", help="approve (or --reject) the changes an execution waits for")
    approve.add_argument("execution_id", metavar="EXECUTION_ID")
    approve.add_argument("--approver", required=True, help="your name; must differ from the requester")
    approve.add_argument("--reject", action="store_true", help="reject instead of approve")
    approve.add_argument("--reason", default=None, help="note for the audit log")
    approve.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    add_paths(approve)
    approve.set_defaults(func=cmd_approve)

    def cmd_executions(args: argparse.Namespace) -> int:
        executions = make_service(args).executions
        if args.execution_id:
            print(executions.get(args.execution_id).model_dump_json(indent=2))
            return 0
        listing = executions.list_executions(args.limit, args.runbook, args.status)
        print(json.dumps(listing.model_dump(), indent=2))
        return 0

    listing = subparsers.add_parser("executions", help="list recent executions (or show one)")
    listing.add_argument("execution_id", nargs="?", help="show this execution in full")
    listing.add_argument("--limit", type=int, default=10)
    listing.add_argument("--runbook", default=None, help="only this runbook id")
    listing.add_argument("--status", default=None, help="only this status, e.g. awaiting_approval")
    add_paths(listing)
    listing.set_defaults(func=cmd_executions)
