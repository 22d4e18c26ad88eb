"""A data dir as the file stores of the release before the state database left it, and a reader
of those files that the importer's results are compared with.

The two dirs under fixtures/ were made by that release's own code (learning with a re-sent
incident and one without an id, analytics, authoring with versions, the executor against the fake
Kubernetes API: an applied, a pending and a dry-run execution, and an audit log whose last line a
crash tore) and frozen, because the code that wrote them has since moved to the database.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from faultmaven_runbooks.settings import Settings

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def build(root: Path, variant: str = "a") -> Settings:
    """A private copy of the frozen data dir of one replica ("a" or "b") under root/data."""
    data = root / "data"
    shutil.copytree(FIXTURES / f"legacy-{variant}", data)
    return Settings(_env_file=None, library_dir=root / "library", data_dir=data, embedding_model="hash:256")


def expected(data_dir: Path) -> dict:
    """What the old files say, read directly, in the shapes the repositories return."""
    learning = json.loads((data_dir / "cache" / "patterns.json").read_text())
    metrics = json.loads((data_dir / "cache" / "metrics.json").read_text())
    executions = {p.stem: json.loads(p.read_text()) for p in (data_dir / "executions").glob("exec-*.json")}
    audit = []
    for line in (data_dir / "audit" / "executions.jsonl").read_text().splitlines():
        try:
            audit.append(json.loads(line))
        except ValueError:
            pass
    versions = {}
    for folder in sorted((data_dir / "versions").iterdir()):
        for entry in json.loads((folder / "index.json").read_text()):
            versions[(folder.name, entry["version"])] = (entry, (folder / f"v{entry['version']}.md").read_bytes())
    return {"learning": learning, "metrics": metrics, "executions": executions, "audit": audit, "versions": versions}
