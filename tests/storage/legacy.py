"""A data dir as the file stores of the release before the state database leave it, made by
that release's own code (learning, analytics, authoring, the executor against the fake
Kubernetes API), and a reader of those files that the importer's results are compared with.

When phase 2 deletes the old stores, freeze one built dir as a fixture and keep `expected`.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

from kubernetes import client as k8s

from faultmaven_runbooks.executor.service import ExecutionService
from faultmaven_runbooks.service import RunbookService
from faultmaven_runbooks.settings import Settings
from tests.conftest import FrozenClock
from tests.executor.conftest import CTX, seed
from tests.executor.fake_kube import FakeKube
from tests.learning.support import ROOT, SHIPPED, attach

SAMPLER = Path(__file__).resolve().parents[1] / "executor" / "fixtures" / "library"


def incident(n: int, variant: str, **extra) -> dict:
    kinds = [("pod_crash", ["OOMKilled events", "exit code 137"], ["memory_limit_exceeded"], "increase_memory_limit"),
             ("disk_pressure", ["node DiskPressure", "evicted pods"], ["log volume full"], "rotate logs"),
             ("image_pull", ["ErrImagePull"], ["registry credentials expired"], "renew pull secret")]
    kind, symptoms, diagnosis, fix = kinds[n % 3]
    return {"id": f"{variant}-INC-{n}", "type": kind, "symptoms": symptoms, "diagnosis": diagnosis,
            "resolution": [fix], "success": n % 4 != 3, "duration": f"{3 + n}m",
            "side_effects": ["brief 5xx"] if n % 2 else [], **extra}


def build(root: Path, variant: str = "a") -> Settings:
    """Populate root/library and root/data with the old code; returns the settings used."""
    library = root / "library"
    for rel in SHIPPED:
        (library / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "runbooks" / rel, library / rel)
    shutil.copytree(SAMPLER, library, dirs_exist_ok=True)
    settings = Settings(_env_file=None, library_dir=library, data_dir=root / "data", embedding_model="hash:256")
    clock = FrozenClock(dt.datetime(2031, 5, 17, 9, 30, tzinfo=dt.timezone.utc))
    service = attach(RunbookService(settings, clock=clock))

    for n in range(9):
        clock.advance(minutes=7)
        used = {"runbook_used": "pod-oomkilled"} if n in (0, 3) else {}
        service.learning.learn(incident(n, variant, **used), {"namespace": "prod", "service": f"svc-{n % 2}"},
                               write_runbooks=False)
    service.learning.learn(incident(1, variant), {"namespace": "prod"}, write_runbooks=False)  # re-sent
    service.learning.learn({**incident(9, variant), "id": None}, {}, write_runbooks=False)  # sent without id

    service.analytics.record_retrieval(["pod-oomkilled", "node-disk-pressure", "pod-oomkilled"])
    service.analytics.record_retrieval(["image-pull-backoff"])
    service.analytics.flush()
    service.analytics.record_execution("pod-oomkilled", success=False, seconds=12.5)
    service.analytics.record_resolution("pod-oomkilled", 540)
    service.analytics.record_resolution(None, 1800)

    clock.advance(hours=1)
    service.authoring.update_runbook("pod-oomkilled", tags=["oom", "memory", variant], author="alice",
                                     note="tags for search")
    clock.advance(hours=1)
    service.authoring.update_runbook("pod-oomkilled", severity="critical", author="bob")
    service.authoring.update_runbook("node-disk-pressure", metadata={"owner": f"team-{variant}"}, author="carol")

    kube = seed(FakeKube()).start()
    executor = ExecutionService(settings, service, kube_configuration=k8s.Configuration(host=kube.url))
    try:
        applied = executor.execute("exec-sampler", CTX, {"dry_run": False}, requester="claude")
        executor.approve(applied.execution_id, "alice", "approve", "memory fix")
        executor.execute("exec-sampler", CTX, {"dry_run": False, "steps": [9]}, requester="claude")  # left pending
        executor.execute("exec-sampler", CTX)  # changes only dry-run
    finally:
        executor.close()
        kube.stop()
    with open(settings.data_dir / "audit" / "executions.jsonl", "ab") as log:
        log.write(b'{"time": "2031-05-17T12:00:00+00:00", "event": "execute.st')  # torn by a crash
    return settings


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
