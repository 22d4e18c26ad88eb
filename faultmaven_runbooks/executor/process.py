"""Who is applying an execution: this process's identity, and whether another owner still runs.

A record in the `applying` state names its owner by host, boot id, pid and the pid's start
time, so recovery never takes over an apply that is still running, and a pid reused after a
crash or a reboot is never mistaken for the process that started the apply. An owner on another
host cannot be checked from here: its applies are left to that host's recovery.
"""

from __future__ import annotations

import os
import socket
from functools import lru_cache
from pathlib import Path


def _boot_id() -> str | None:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return None


def _start_time(pid: int) -> str | None:
    """Clock ticks after boot at which `pid` started (field 22 of /proc/PID/stat)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and ')': split after its closing parenthesis.
    return stat.rsplit(")", 1)[1].split()[19]


@lru_cache(maxsize=1)
def _host() -> str:
    return socket.gethostname()


def current_owner() -> dict:
    pid = os.getpid()
    return {"host": _host(), "boot": _boot_id(), "pid": pid, "start": _start_time(pid)}


def owner_alive(owner: dict | None) -> bool | None:
    """True or False for a process of this machine; None when it cannot be told (another host)."""
    if not owner or not isinstance(owner.get("pid"), int):
        return False
    if owner.get("host") != _host():
        return None
    if owner.get("boot") and owner.get("boot") != _boot_id():
        return False  # the machine rebooted since: every process of that boot is gone
    start = _start_time(owner["pid"])
    if start is not None:
        return owner.get("start") in (None, start)
    try:
        os.kill(owner["pid"], 0)  # no /proc (not Linux): the pid exists, reuse cannot be ruled out
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
