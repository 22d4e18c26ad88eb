"""A real `faultmaven-runbooks serve --transport streamable-http` process on port 0, for the tests
that need the whole server as people run it: crash recovery, replicas, a database that is down."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

EXE = Path(sys.executable).with_name("faultmaven-runbooks")


class ServeProcess:
    """The port is read from uvicorn's start-up line; `env` adds FAULTMAVEN_RUNBOOKS_* settings."""

    def __init__(self, library: Path, data: Path, env: dict[str, str]):
        full_env = {**os.environ, "HF_HUB_OFFLINE": "1", "FAULTMAVEN_RUNBOOKS_EMBEDDING_MODEL": "hash:256", **env}
        self.proc = subprocess.Popen(
            [str(EXE), "serve", "--transport", "streamable-http", "--host", "127.0.0.1", "--port", "0",
             "--library", str(library), "--data", str(data)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=full_env, text=True)
        self.log: list[str] = []
        found = threading.Event()

        def read() -> None:
            for line in self.proc.stderr:
                self.log.append(line)
                if "Uvicorn running on" in line:
                    found.set()

        threading.Thread(target=read, daemon=True).start()
        if not found.wait(90):
            self.proc.kill()
            raise RuntimeError("server did not start:\n" + "".join(self.log))
        port = re.search(r"Uvicorn running on http://127\.0\.0\.1:(\d+)", "".join(self.log)).group(1)
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def wait_until_indexed(self) -> None:
        wait_until_indexed(self.url, self.proc)


def wait_until_indexed(base: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    """Poll health until the server is up and every library file is indexed: a search never waits
    for indexing (by design), so a search sent earlier may answer before the runbook is in."""
    deadline = time.time() + timeout
    with httpx.Client(timeout=2) as http:  # one client: each new one loads the CA bundle (~20 ms)
        while True:
            try:
                health = http.get(f"{base}/runbooks/health")
                status = health.json() if health.status_code == 200 else {}
                if "indexing" not in status and status.get("indexed_runbooks") == status.get("library_files"):
                    return
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.time() < deadline, "server did not come up and index its library"
            time.sleep(0.1)
