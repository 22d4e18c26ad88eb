"""CLI: `approve EXECUTION_ID`, `plan RUNBOOK_ID` and `executions [EXECUTION_ID]`.

`approve` is a person's channel: it needs their approver credential (FAULTMAVEN_RUNBOOKS_APPROVER_TOKEN,
or it asks). With --server it goes through the running server that planned the execution;
without, it acts on this machine's data dir and cluster, and refuses when the execution was
planned elsewhere (another data dir or another cluster), saying which flags to pass.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from ...api.executions import ListExecutionsRequest, PlanRequest
from ...errors import Forbidden, InvalidInput, NotFound, RunbookError
from ...executor.models import ExecutionResult
from ...executor.views import compact, compact_plan
from .args import add_paths

TIMEOUT = 120


def _token(settings) -> str:
    token = settings.approver_token
    if not token and sys.stdin.isatty():
        token = getpass.getpass("approver token: ").strip()
    if not token:
        raise InvalidInput("approving needs your approver credential: set FAULTMAVEN_RUNBOOKS_APPROVER_TOKEN to the "
                           "token `faultmaven-runbooks approvers add NAME` printed")
    return token


def _confirm(record: dict) -> bool:
    print(f"Execution {record['execution_id']} of runbook {record['runbook_id']}, requested by {record['requester']}, "
          f"on {((record.get('cluster') or {}).get('server')) or 'an unknown cluster'}:", file=sys.stderr)
    for step in record.get("steps", []):
        if step.get("result") == "pending_approval":
            print(f"  step {step['step']}: {step['command']}\n{step.get('diff') or ''}", file=sys.stderr)
    return input("Apply these changes? [y/N] ").strip().lower() in ("y", "yes")


def _http(method: str, url: str, token: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read() or b"{}").get("message") or exc.reason
        except ValueError:
            message = exc.reason
        raise RunbookError(f"the server at --server answered {exc.code}: {message}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise RunbookError(f"cannot reach the server at --server {url.split('/runbooks')[0]} ({exc})") from None


def _through_server(args, token: str, decision: str) -> dict:
    base = f"{args.server.rstrip('/')}/runbooks/executions/{args.execution_id}"
    if decision == "approve" and not args.yes and not _confirm(_http("GET", base, token)):
        raise InvalidInput("not approved")
    return _http("POST", f"{base}/{decision}", token, {"reason": args.reason} if args.reason else {})


def _locally(args, service, token: str, decision: str) -> dict:
    overrides = {k: v for k, v in (("kubeconfig", args.kubeconfig), ("kube_context", args.context)) if v}
    executions = service.make_executions(service.settings.model_copy(update=overrides))
    data = service.settings.data_dir
    approver = executions.approvers.identify(token)
    if approver is None:
        raise Forbidden(f"that token is not an approver credential of data dir {data}; pass --data with the "
                        "server's data dir, or --server URL to approve through the running server")
    try:
        record: ExecutionResult = executions.get(args.execution_id)
    except NotFound:
        raise NotFound(f"no execution {args.execution_id} in data dir {data}; pass --data with the data dir of the "
                       "server that planned it, or --server URL to approve through that server") from None
    if decision == "approve":
        here = executions.cluster()
        if record.cluster is not None and here != record.cluster:
            raise Forbidden(f"execution {record.execution_id} was planned on {record.cluster.describe()}, but this "
                            f"command would connect to {here.describe() if here else 'no cluster'}; pass --server "
                            "URL of the server that planned it, or --kubeconfig/--context for that cluster")
        if not args.yes and not _confirm(compact(record)):
            raise InvalidInput("not approved")
    try:
        return compact(executions.approve(args.execution_id, approver, decision, args.reason, "cli"))
    finally:
        executions.close()


def add_cli(subparsers, make_service: Callable[[argparse.Namespace], Any]) -> None:
    def cmd_approve(args: argparse.Namespace) -> int:
        decision = "reject" if args.reject else "approve"
        if args.server:  # the server holds the records and the cluster: nothing local is opened
            result = _through_server(args, _token(args.settings), decision)
        else:
            service = make_service(args)
            result = _locally(args, service, _token(service.settings), decision)
        changes = [{"step": s["step"], "result": s.get("result"), "reason": s.get("reason")}
                   for s in result.get("steps", []) if s.get("classification") == "change"]
        print(json.dumps({"execution_id": result.get("execution_id"), "status": result.get("status"),
                          "approval": result.get("approval"), "steps": changes}, indent=2))
        return 0 if result.get("status") in ("completed", "rejected") else 1

    approve = subparsers.add_parser("approve", help="approve (or --reject) the changes an execution waits for")
    approve.add_argument("execution_id", metavar="EXECUTION_ID")
    approve.add_argument("--reject", action="store_true", help="reject instead of approve")
    approve.add_argument("--reason", default=None, help="note for the audit log")
    approve.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    approve.add_argument("--server", default=None, help="URL of the running server that planned it")
    approve.add_argument("--kubeconfig", default=None, help="without --server: the kubeconfig of the cluster")
    approve.add_argument("--context", default=None, help="without --server: the kubeconfig context")
    add_paths(approve)
    approve.set_defaults(func=cmd_approve)

    def cmd_plan(args: argparse.Namespace) -> int:
        context = dict(item.split("=", 1) for item in args.set or [] if "=" in item)
        request = PlanRequest.of({"runbook_id": args.runbook_id, "context": context, "section": args.section,
                                  "option": args.option,
                                  "steps": [int(s) for s in args.steps.split(",")] if args.steps else None})
        preview = make_service(args).plan(request)
        print(json.dumps(compact_plan(preview), indent=2))
        return 0

    plan = subparsers.add_parser("plan", help="preview what execute would run (runs nothing)")
    plan.add_argument("runbook_id", metavar="RUNBOOK_ID")
    plan.add_argument("--set", action="append", metavar="KEY=VALUE", help="a context value, e.g. namespace=prod")
    plan.add_argument("--steps", default=None, help="step numbers, e.g. 12,13")
    plan.add_argument("--section", default=None, help="a section's heading, e.g. 'Immediate Fix'")
    plan.add_argument("--option", default=None, help="an option id the plan listed, e.g. B")
    add_paths(plan)
    plan.set_defaults(func=cmd_plan)

    def cmd_executions(args: argparse.Namespace) -> int:
        service = make_service(args)
        if args.execution_id:
            print(service.get_execution(args.execution_id).model_dump_json(indent=2, exclude={"owner", "version"}))
            return 0
        listing = service.list_executions(ListExecutionsRequest.of(
            {"limit": args.limit, "runbook_id": args.runbook, "status": args.status, "cursor": args.cursor}))
        print(json.dumps(listing.model_dump(mode="json", exclude_none=True), indent=2))
        return 0

    listing = subparsers.add_parser("executions", help="list recent executions (or show one)")
    listing.add_argument("execution_id", nargs="?", help="show this execution in full")
    listing.add_argument("--limit", type=int, default=10)
    listing.add_argument("--cursor", default=None, help="next_cursor of the previous page")
    listing.add_argument("--runbook", default=None, help="only this runbook id")
    listing.add_argument("--status", default=None, help="only this status, e.g. awaiting_approval")
    add_paths(listing)
    listing.set_defaults(func=cmd_executions)
