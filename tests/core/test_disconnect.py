"""A client that hangs up while the server warms up (compiling and loading the real model,
building the index) never crashes it: the process exits at once and cleanly.

Before the fix, closing stdin during the warm-up ended in SIGABRT ("terminate called without
an active exception") whenever the interpreter finalized under the warm-up thread.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from faultmaven_runbooks.search.embedder import make_embedder

SERVER = Path(sys.executable).with_name("faultmaven-runbooks")
HELLO = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
         "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
SHARED_CACHE = Path(os.environ["FAULTMAVEN_RUNBOOKS_MODEL_CACHE"])  # this run's compiled model (tests/conftest.py)


def hang_up(library: Path, data: Path, model_cache: Path, when: str | float) -> tuple[int, str, float]:
    """(exit code, stderr, seconds from hang-up to exit) of a server whose client leaves early:
    as soon as the server logs `when` (a phase of its warm-up), or after `when` seconds."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "FAULTMAVEN_RUNBOOKS_EMBEDDING_MODEL": "bundled:all-MiniLM-L6-v2",
           "FAULTMAVEN_RUNBOOKS_MODEL_CACHE": str(model_cache)}
    proc = subprocess.Popen([str(SERVER), "serve", "--library", str(library), "--data", str(data)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            start_new_session=True)
    log: list[str] = []
    reached = threading.Event()

    def read_stderr() -> None:
        for line in proc.stderr:
            log.append(line.decode(errors="replace"))
            if isinstance(when, str) and when in log[-1]:
                reached.set()

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    try:
        proc.stdin.write((json.dumps(HELLO) + "\n").encode())
        proc.stdin.flush()
        assert json.loads(proc.stdout.readline())["id"] == 1
        proc.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
        proc.stdin.flush()
        if isinstance(when, str):
            assert reached.wait(60), f"the server never logged {when!r}:\n{''.join(log)[-2000:]}"
        else:
            time.sleep(when)
        proc.stdin.close()  # the client is gone
        left = time.monotonic()
        code = proc.wait(timeout=60)
        took = time.monotonic() - left
        reader.join(10)
        return code, "".join(log), took
    finally:
        try:  # the model compile runs in a child of its own; it must not outlive the test
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def assert_left_at_once(code: int, stderr: str, took: float) -> None:
    assert "terminate called" not in stderr and "not rethrown" not in stderr, stderr[-2000:]
    assert "Fatal Python error" not in stderr, stderr[-2000:]
    assert code == 0, (code, stderr[-2000:])
    assert "client gone during warm-up" in stderr  # it left at once, not through finalization
    assert took < 10


@pytest.mark.real_model
def test_hanging_up_while_the_model_compiles_exits_cleanly(library_dir, tmp_path):
    """A cold cache: the client leaves while the model is being compiled in its child process."""
    assert_left_at_once(*hang_up(library_dir, tmp_path / "data", tmp_path / "cold-cache", "compiling embedding model"))


@pytest.mark.real_model
def test_hanging_up_while_the_model_loads_and_the_index_builds_exits_cleanly(library_dir, tmp_path):
    """The model compiled already: the client leaves at once, while the model loads and the first
    index pass embeds the library."""
    make_embedder("bundled:all-MiniLM-L6-v2", SHARED_CACHE).embed(["compiled before the server starts"])
    assert_left_at_once(*hang_up(library_dir, tmp_path / "data", SHARED_CACHE, 0))


# A library large enough that indexing outlives the warm-up (evaluation data, where CI keeps it).
LARGE_LIBRARY = Path(__file__).resolve().parents[3] / "shared" / "eval" / "extra-corpora" / "gitlab-com-runbooks"


@pytest.mark.real_model
def test_hanging_up_while_indexing_outlives_the_warm_up_exits_cleanly(tmp_path):
    """The model is compiled already, so the warm-up is over in a second or two, but the indexer
    embeds a 400-runbook library for a minute: hanging up once the warm-up is done must not
    finalize the interpreter under the indexer's native calls (it aborted with "FATAL: exception
    not rethrown")."""
    make_embedder("bundled:all-MiniLM-L6-v2", SHARED_CACHE).embed(["compiled before the server starts"])
    assert_left_at_once(*hang_up(LARGE_LIBRARY, tmp_path / "data", SHARED_CACHE,
                              "warm-up done in"))
