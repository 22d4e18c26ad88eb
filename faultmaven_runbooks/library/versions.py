"""Runbook ids as the version history knows them, and diffs between two versions. The versions
themselves are kept in the state store (storage/versions.py) by the library writer."""

from __future__ import annotations

import difflib
import re

from ..errors import InvalidInput

RUNBOOK_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")


def check_id(runbook_id: str) -> str:
    # Ids become file names and keys: anything but [a-z0-9-] could escape a folder (traversal).
    if not isinstance(runbook_id, str) or not RUNBOOK_ID.match(runbook_id):
        raise InvalidInput(f"runbook id {runbook_id!r} must be lowercase letters, digits and '-' "
                           "(at most 100 characters); use `search` to find ids")
    return runbook_id


def unified_diff(old: str, new: str, old_label: str, new_label: str) -> str:
    return "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        fromfile=old_label, tofile=new_label))
