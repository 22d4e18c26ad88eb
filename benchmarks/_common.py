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


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def median(values: list[float]) -> float:
    return statistics.median(values)


def table(headers: list[str], rows: list[list[object]]) -> str:
    cells = [headers] + [[f"{c:.3f}" if isinstance(c, float) else str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)
