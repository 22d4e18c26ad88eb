"""The first start on an old data dir imports its file stores once, without loss; a crash
half-way leaves nothing behind and the next start imports cleanly."""

from __future__ import annotations

import errno
import io
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from faultmaven_runbooks.settings import Settings
from faultmaven_runbooks.storage import open_store
from faultmaven_runbooks.storage.importer import import_legacy_state
from faultmaven_runbooks.storage.schema import LegacyImport

from . import legacy

OLD = ("cache/patterns.json", "cache/metrics.json", "executions", "audit/executions.jsonl", "versions")


@pytest.fixture(scope="module")
def old_dir(tmp_path_factory) -> Path:
    """Built once with the old code; each test works on a copy (mtimes kept, as a restore keeps them)."""
    return legacy.build(tmp_path_factory.mktemp("legacy")).data_dir


def _copy(old_dir: Path, to: Path) -> Path:
    shutil.copytree(old_dir, to, copy_function=shutil.copy2)
    return to


def _settings(db_settings: Settings, data_dir: Path) -> Settings:
    return db_settings.model_copy(update={"data_dir": data_dir})


def assert_holds(store, want: dict) -> None:
    """The store holds exactly what the old files held."""
    learning, metrics = want["learning"], want["metrics"]
    assert {pid: store.patterns.get(pid).pattern for pid in learning["patterns"]} == learning["patterns"]
    assert store.patterns.count() == len(learning["patterns"])
    assert store.incidents.total() == learning["incidents"]
    for pid, p in learning["patterns"].items():
        assert store.incidents.recent_ids(pid, 20) == list(dict.fromkeys(reversed(p["incidents"])))
    assert store.outcomes.resolutions() == learning["resolutions"]
    assert store.outcomes.runbooks() == learning["runbooks"]
    assert store.usage.all() == metrics["runbooks"]
    assert store.usage.unassisted() == metrics["unassisted"]
    assert {e.execution_id: e.record for e in store.executions.page(limit=500).items} == want["executions"]
    out = io.StringIO()
    store.audit.export_jsonl(out)
    assert [json.loads(line) for line in out.getvalue().splitlines()] == want["audit"]
    for (runbook_id, version), (entry, content) in want["versions"].items():
        assert store.versions.read(runbook_id, version) == content
        assert {**entry, "runbook_id": runbook_id} in store.versions.entries(runbook_id)
    assert sum(store.versions.counts().values()) == len(want["versions"])


def test_an_old_data_dir_is_imported_once_without_loss(old_dir, db_settings, tmp_path, clock, caplog):
    data = _copy(old_dir, tmp_path / "old")
    want = legacy.expected(data)
    caplog.set_level(logging.INFO, "faultmaven_runbooks.storage")
    store = open_store(_settings(db_settings, data), clock)
    assert_holds(store, want)
    summary = next(r for r in caplog.records if r.getMessage().startswith("imported old state"))
    assert '"executions": 3' in summary.getMessage() and "executions.jsonl line 32: " in summary.getMessage()
    for rel in OLD:  # kept under a new name, never deleted
        assert not (data / rel).exists() and (data / (rel + ".imported")).exists()
    store.close()
    again = open_store(_settings(db_settings, data), clock)  # the next start imports nothing
    assert_holds(again, want)
    again.close()


def test_a_crash_after_the_commit_never_imports_twice(old_dir, db_settings, tmp_path, clock):
    """The files are renamed after the commit; a crash in between leaves them under their old
    names. The marker row says they are in: the next start only renames them."""
    data = _copy(old_dir, tmp_path / "old")
    want = legacy.expected(data)
    store = open_store(_settings(db_settings, data), clock)
    for rel in OLD:
        (data / (rel + ".imported")).rename(data / rel)
    assert import_legacy_state(store, data) is None
    assert_holds(store, want)
    assert not (data / "cache" / "patterns.json").exists()
    store.close()


def _wait_for_reader(fifo: Path, process: subprocess.Popen) -> int:
    """Open the FIFO for writing once the importer has opened it for reading: from then on it
    is blocked inside its transaction, half-way through."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read()
        try:
            return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno != errno.ENXIO:
                raise
            time.sleep(0.05)
    raise AssertionError("the importer never reached the version files")


def test_a_crash_half_way_leaves_nothing_and_the_next_start_imports_cleanly(old_dir, db_settings, tmp_path, clock):
    data = _copy(old_dir, tmp_path / "old")
    want = legacy.expected(data)
    settings = _settings(db_settings, data)
    # Versions are imported last; make one of their files a pipe the importer blocks on.
    victim = data / "versions" / "pod-oomkilled" / "v2.md"
    content = victim.read_bytes()
    victim.unlink()
    os.mkfifo(victim)
    code = ("import logging, sys, pathlib; logging.basicConfig(level=logging.INFO)\n"
            "from faultmaven_runbooks.settings import Settings\n"
            "from faultmaven_runbooks.storage import open_store\n"
            f"open_store(Settings(_env_file=None, data_dir=pathlib.Path({str(data)!r}), "
            f"database_url={settings.database_url!r}))\n")
    process = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)
    writer = _wait_for_reader(victim, process)
    try:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        os.close(writer)
    log = process.stderr.read()
    assert "imported executions" in log and "imported audit/executions.jsonl" in log  # it was half-way

    victim.unlink()
    victim.write_bytes(content)
    store = open_store(settings, clock)  # nothing of the killed import remains; this one is whole
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(LegacyImport)).scalar() == 1
    assert_holds(store, want)
    store.close()


def test_two_replicas_data_dirs_merge_into_one_database(old_dir, db_settings, tmp_path, clock):
    first = _copy(old_dir, tmp_path / "replica-a")
    second = legacy.build(tmp_path / "replica-b", variant="b").data_dir
    a, b = legacy.expected(first), legacy.expected(second)
    store = open_store(_settings(db_settings, first), clock)
    summary = import_legacy_state(store, second)
    assert summary["counts"]["executions"] == 3 and summary["counts"]["patterns"] == len(b["learning"]["patterns"])
    assert store.incidents.total() == a["learning"]["incidents"] + b["learning"]["incidents"]
    assert store.patterns.count() == len(a["learning"]["patterns"]) + len(b["learning"]["patterns"])
    retrievals = store.usage.get("pod-oomkilled")["retrievals"]
    assert retrievals == a["metrics"]["runbooks"]["pod-oomkilled"]["retrievals"] * 2
    assert store.executions.count() == 6 and len(store.audit.page(limit=500).items) == len(a["audit"]) * 2
    # Both replicas kept v1 (the shipped file: the same bytes, kept once) and a v2 that differs
    # (their own tags): the second v2 is kept too, as v3, and the summary says so.
    entries = store.versions.entries("pod-oomkilled")
    assert [e["version"] for e in entries] == [1, 2, 3] and "as v2" in entries[2]["note"]
    assert store.versions.read("pod-oomkilled", 3) == b["versions"][("pod-oomkilled", 2)][1]
    assert any("imported as" in p for p in summary["problems"])
    store.close()


def test_items_the_schema_refuses_are_reported_and_the_rest_is_imported(old_dir, db_settings, tmp_path, clock,
                                                                        backend):
    """What an older release could leave behind: a record without its plan hash, an audit line
    without a valid time, a pattern id longer than PostgreSQL's column (SQLite takes it). On
    PostgreSQL a refused row would abort the whole transaction; a savepoint per item keeps the
    rest."""
    data = _copy(old_dir, tmp_path / "old")
    want = legacy.expected(data)
    (data / "executions" / "exec-00000000dead.json").write_text(json.dumps({"execution_id": "exec-00000000dead"}))
    with open(data / "audit" / "executions.jsonl", "a") as log:
        log.write('\n{"time": "yesterday", "event": "execute.plan"}\n')
    learning = json.loads((data / "cache" / "patterns.json").read_text())
    long_id = "p" * 300
    learning["patterns"][long_id] = {**next(iter(learning["patterns"].values())), "id": long_id, "incidents": []}
    (data / "cache" / "patterns.json").write_text(json.dumps(learning))
    store = open_store(_settings(db_settings, data), clock, import_legacy=False)
    summary = import_legacy_state(store, data)
    problems = "\n".join(summary["problems"])
    assert "exec-00000000dead.json: an execution record needs" in problems
    assert "'yesterday' is not an ISO 8601 time" in problems
    if backend == "postgresql":
        assert f"pattern {long_id!r}" in problems
        del learning["patterns"][long_id]
    want["learning"]["patterns"] = learning["patterns"]
    assert_holds(store, want)  # everything else, exactly
    store.close()
