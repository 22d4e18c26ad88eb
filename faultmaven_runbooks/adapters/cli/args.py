"""Arguments every command that opens a library shares."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_paths(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--library", type=Path, help="runbook library root (default: the shipped runbooks/)")
    parser.add_argument("--data", type=Path, help="data dir for index, state, audit, backups (default: .faultmaven)")
