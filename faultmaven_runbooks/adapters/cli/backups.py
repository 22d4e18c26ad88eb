"""CLI commands: `backup [--kind K | --list]` and `restore NAME`."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from .args import add_paths


def add_cli(subparsers, make_service: Callable[[argparse.Namespace], Any]) -> None:
    """`backup [--kind K | --list]` and `restore NAME`."""

    def run_backup(args: argparse.Namespace) -> int:
        backups = make_service(args).backups
        result = backups.list() if args.list else backups.backup(args.kind)
        print(json.dumps(result, indent=2))
        return 0

    def run_restore(args: argparse.Namespace) -> int:
        result = make_service(args).backups.restore(args.name, reindex=not args.no_reindex)
        print(json.dumps(result, indent=2, default=str))
        return 0

    p = subparsers.add_parser("backup", help="snapshot the library and state (daily/weekly/monthly)")
    add_paths(p)
    p.add_argument("--kind", choices=["daily", "weekly", "monthly"], default="daily")
    p.add_argument("--list", action="store_true", help="list the available backups instead")
    p.set_defaults(func=run_backup)
    p = subparsers.add_parser("restore", help="restore a backup and rebuild the index from it")
    add_paths(p)
    p.add_argument("name", help="a name from `backup --list`, e.g. daily/daily-20260101T000000000000Z.tar.gz")
    p.add_argument("--no-reindex", action="store_true", help="skip rebuilding the search index")
    p.set_defaults(func=run_restore)

