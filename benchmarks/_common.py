"""Shared helpers for the benchmark scripts: paths, a service on a scratch data dir, tables."""

from __future__ import annotations

import logging
import os
import shutil
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVAL = Path(os.environ.get("FAULTMAVEN_EVAL_DIR", ROOT.parent / "shared" / "eval"))
WORK = ROOT / "benchmarks" / ".work"

sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
logging.basicConfig(level=logging.ERROR)


def scratch(name: str, fresh: bool = True) -> Path:
    path = WORK / name
    if fresh and path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    return path


def service(library: Path, data: Path, model: str | None = None):
    from faultmaven_runbooks.service import RunbookService
    from faultmaven_runbooks.settings import Settings

    settings = Settings(library_dir=library, data_dir=data)
    if model:
        settings = settings.model_copy(update={"embedding_model": model})
    return RunbookService(settings)


def server_pid(data: Path) -> int | None:
    """The `faultmaven-runbooks serve` process serving this data dir, if one runs."""
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if " serve " in cmd and str(data) in cmd:
                return int(proc.name)
    return None


def process_memory_mb(pid: int) -> tuple[float, float]:
    """(resident, peak resident) MB of a process, from /proc."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values.get("VmRSS", float("nan")), values.get("VmHWM", float("nan"))


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def median(values: list[float]) -> float:
    return statistics.median(values)


def table(headers: list[str], rows: list[list[object]]) -> str:
    cells = [headers] + [[f"{c:.3f}" if isinstance(c, float) else str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)
