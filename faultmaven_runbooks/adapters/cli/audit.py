"""CLI: `audit export [--out FILE]`: the audit log as JSONL, oldest first, one JSON object a line
(the state store keeps it in an append-only table; this is how it leaves for a SIEM or an auditor)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from .args import add_paths


def add_cli(subparsers, make_service: Callable[[argparse.Namespace], Any]) -> None:
    def cmd_export(args: argparse.Namespace) -> int:
        service = make_service(args)
        try:
            if args.out:
                with open(args.out, "w", encoding="utf-8") as out:
                    written = service.store.audit.export_jsonl(out)
            else:
                written = service.store.audit.export_jsonl(sys.stdout)
        finally:
            service.close()
        print(f"exported {written} audit entries", file=sys.stderr)
        return 0

    parser = subparsers.add_parser("audit", help="the audit log of executions and approvals")
    sub = parser.add_subparsers(dest="audit_command", required=True)
    export = sub.add_parser("export", help="write the audit log as JSONL (stdout by default)")
    export.add_argument("--out", default=None, metavar="FILE", help="write to FILE instead of stdout")
    add_paths(export)
    export.set_defaults(func=cmd_export)
