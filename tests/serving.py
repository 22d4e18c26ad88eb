"""A real `faultmaven-runbooks serve --transport streamable-http` process on port 0, for the tests
that need the whole server as people run it: crash recovery, replicas, a database that is down."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

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
