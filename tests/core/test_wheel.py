"""The package as users install it: a wheel built from this tree carries the prompts and the
state store's migrations, and the prompts load from the wheel itself (package resources, not a
path into a source checkout)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.long

ROOT = Path(__file__).resolve().parents[2]
PROMPTS = {"runbook_offer_minimal", "runbook_offer_standard", "runbook_offer_detailed", "runbook_writing"}


def build_wheel(tmp_path: Path) -> Path:
    """A wheel of this tree, built from a copy of what the wheel is made of, so the build leaves
    nothing in this tree."""
    source = tmp_path / "source"
    shutil.copytree(ROOT / "faultmaven_runbooks", source / "faultmaven_runbooks",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path), str(source)],
                   check=True, capture_output=True, timeout=300)
    return next(tmp_path.glob("faultmaven_runbooks-*.whl"))


def test_an_installed_wheel_serves_its_prompts(tmp_path):
    wheel = build_wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"faultmaven_runbooks/prompts/{p}.md" for p in PROMPTS} <= names
    assert "faultmaven_runbooks/storage/migrations/versions/0001_initial_schema.py" in names
    assert not any(n.startswith(("tests/", "prompts/", "runbooks/")) for n in names)
    # Import the package from the wheel (a zip on sys.path before the source tree): the
    # prompts must come out of it.
    probe = ("import faultmaven_runbooks, sys; from faultmaven_runbooks.adapters.mcp.prompts import read_prompt; "
             "assert '.whl' in faultmaven_runbooks.__file__, faultmaven_runbooks.__file__; "
             f"print(all(len(read_prompt(p)) > 200 for p in {sorted(PROMPTS)!r}))")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, cwd=tmp_path,
                         env={"PYTHONPATH": str(wheel), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"})
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "True"
