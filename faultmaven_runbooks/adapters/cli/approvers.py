"""CLI: `approvers add NAME | list | remove NAME`: the credentials people approve changes with.

The token is printed once and only its hash is kept; whoever holds it approves as NAME, through
`faultmaven-runbooks approve` or the HTTP API. Run it with the server's --data (or its DATABASE_URL).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from ...executor.approvers import for_settings
from .args import add_paths


def add_cli(subparsers, make_service: Callable[[argparse.Namespace], Any]) -> None:
    def store(args: argparse.Namespace):
        return for_settings(args.settings)

    def cmd_add(args: argparse.Namespace) -> int:
        token = store(args).add(args.name)
        print(f"approver {args.name} added; their token follows. It is shown once and only its hash is kept:",
              file=sys.stderr)
        print(token)
        print(f"{args.name} approves with FAULTMAVEN_RUNBOOKS_APPROVER_TOKEN=<token> faultmaven-runbooks approve "
              "EXECUTION_ID, or over HTTP with 'Authorization: Bearer <token>'.", file=sys.stderr)
        return 0

    def cmd_list(args: argparse.Namespace) -> int:
        print(json.dumps({"approvers": store(args).names()}, indent=2))
        return 0

    def cmd_remove(args: argparse.Namespace) -> int:
        store(args).remove(args.name)
        print(f"approver {args.name} removed; their token no longer approves anything", file=sys.stderr)
        return 0

    parser = subparsers.add_parser("approvers", help="manage the credentials people approve changes with")
    sub = parser.add_subparsers(dest="approvers_command", required=True)
    for name, func, text in (("add", cmd_add, "create a credential for NAME and print its token once"),
                             ("list", cmd_list, "list approver names"),
                             ("remove", cmd_remove, "revoke NAME's credential")):
        p = sub.add_parser(name, help=text)
        if name != "list":
            p.add_argument("name", metavar="NAME")
        add_paths(p)
        p.set_defaults(func=func)
