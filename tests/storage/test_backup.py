"""Snapshots of the SQLite database for the tar backups: consistent while writers run."""

from __future__ import annotations

import sqlite3
import threading
import time

from faultmaven_runbooks.storage import open_store, snapshot
from faultmaven_runbooks.storage.backup import LIVE_FILES

from .support import execution


def test_a_snapshot_taken_while_writers_run_is_one_consistent_file(db_settings, tmp_path, backend):
    store = open_store(db_settings)
    if backend == "postgresql":
        assert snapshot(store, tmp_path / "snap.db") is None  # pg_dump's job (README)
        return
    stop = threading.Event()

    def write() -> None:
        n = 0
        while not stop.is_set():
            with store.transaction() as tx:  # each pair lands together or not at all
                tx.executions.add(execution(f"exec-{n:012x}"))
                tx.audit.append("execute.plan", execution_id=f"exec-{n:012x}")
            n += 1

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while store.executions.count() < 20:
            time.sleep(0.01)
        target = snapshot(store, tmp_path / "backup" / "state.db")
    finally:
        stop.set()
        writer.join()
    assert sorted(p.name for p in target.parent.iterdir()) == ["state.db"]  # no -wal, no temp file
    copy = sqlite3.connect(target)
    assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    executions = copy.execute("SELECT count(*) FROM executions").fetchone()[0]
    assert executions >= 20 and copy.execute("SELECT count(*) FROM audit_log").fetchone()[0] == executions
    copy.close()
    restored = open_store(db_settings.model_copy(update={"data_dir": target.parent}))
    assert restored.executions.count() == executions  # the copy opens as a state database
    restored.close()
    assert "state.db" in LIVE_FILES and (db_settings.data_dir / "state.db").exists()
    store.close()
