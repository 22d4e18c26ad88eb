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
import time
from pathlib import Path

import pytest

SERVER = Path(sys.executable).with_name("faultmaven-runbooks")
HELLO = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
         "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}


def hang_up_after(seconds: float, library: Path, data: Path, model_cache: Path) -> tuple[int, str, float]:
    """(exit code, stderr, seconds from hang-up to exit) of a server whose client leaves early."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "FAULTMAVEN_RUNBOOKS_EMBEDDING_MODEL": "bundled:all-MiniLM-L6-v2",
           "FAULTMAVEN_RUNBOOKS_MODEL_CACHE": str(model_cache)}
    proc = subprocess.Popen([str(SERVER), "serve", "--library", str(library), "--data", str(data)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            start_new_session=True)
    try:
        proc.stdin.write((json.dumps(HELLO) + "\n").encode())
        proc.stdin.flush()
        assert json.loads(proc.stdout.readline())["id"] == 1
        proc.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
        proc.stdin.flush()
        time.sleep(seconds)
        proc.stdin.close()  # the client is gone
        left = time.monotonic()
        code = proc.wait(timeout=60)
        return code, proc.stderr.read().decode(errors="replace"), time.monotonic() - left
    finally:
        try:  # the model compile runs in a child of its own; it must not outlive the test
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


@pytest.mark.real_model
@pytest.mark.parametrize("seconds", [3, 8, 13])  # across the compile and the first loads, on a cold cache
def test_hanging_up_during_warm_up_exits_cleanly(seconds, library_dir, tmp_path):
    code, stderr, took = hang_up_after(seconds, library_dir, tmp_path / "data", tmp_path / "model-cache")
    assert "terminate called" not in stderr and "Fatal Python error" not in stderr, stderr[-2000:]
    assert code == 0, (code, stderr[-2000:])
    assert took < 10


# A library large enough that indexing outlives the warm-up (evaluation data, where CI keeps it).
LARGE_LIBRARY = Path(__file__).resolve().parents[3] / "shared" / "eval" / "extra-corpora" / "gitlab-com-runbooks"


@pytest.mark.real_model
def test_hanging_up_while_indexing_outlives_the_warm_up_exits_cleanly(tmp_path):
    """The model is compiled already, so the warm-up is over in a second or two, but the indexer
    embeds a 400-runbook library for a minute: hanging up then must not finalize the interpreter
    under the indexer's native calls (it aborted with "FATAL: exception not rethrown")."""
    from faultmaven_runbooks.search.embedder import make_embedder

    cache = Path(os.environ["FAULTMAVEN_RUNBOOKS_MODEL_CACHE"])
    make_embedder("bundled:all-MiniLM-L6-v2", cache).embed(["compiled before the server starts"])
    code, stderr, took = hang_up_after(6, LARGE_LIBRARY, tmp_path / "data", cache)
    assert "terminate called" not in stderr and "not rethrown" not in stderr, stderr[-2000:]
    assert code == 0, (code, stderr[-2000:])
    assert "client gone during warm-up" in stderr  # it left at once, not through finalization
    assert took < 10
