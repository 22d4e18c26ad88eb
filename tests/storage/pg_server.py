"""A throwaway PostgreSQL server in a temporary directory (initdb + pg_ctl), for tests and
benchmarks. Never the system service: it listens on 127.0.0.1 on a free port and vanishes with
its directory. As root it runs as the `postgres` user (initdb refuses to run as root)."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg

PG_BIN = Path(os.environ.get("FAULTMAVEN_PG_BIN", "/usr/lib/postgresql/15/bin"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    def __init__(self, fsync: bool = False):
        if not (PG_BIN / "initdb").exists():
            raise RuntimeError(f"{PG_BIN}/initdb is missing: `make test` installs PostgreSQL "
                               "(apt-get install postgresql); or set FAULTMAVEN_PG_BIN")
        self.fsync = fsync
        self.root = Path(tempfile.mkdtemp(prefix="fm-pg-"))
        self.data = self.root / "data"
        self.port = 0
        self._user = None
        if os.geteuid() == 0:
            self._user = "postgres"
            try:
                entry = pwd.getpwnam(self._user)
            except KeyError:
                raise RuntimeError("initdb refuses to run as root and there is no `postgres` user: "
                                   "install Debian's postgresql package (`make test` does)") from None
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self._run(PG_BIN / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--no-sync", "--locale=C")

    def _run(self, *args, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run([str(a) for a in args], user=self._user, check=check, capture_output=True,
                              text=True, timeout=120, cwd=self.root)

    def start(self) -> PostgresServer:
        error = ""
        for _ in range(5):  # another process may take the free port between our probe and the bind
            self.port = self.port or _free_port()
            options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
                       f"-c fsync={'on' if self.fsync else 'off'} -c max_connections=100")
            done = self._run(PG_BIN / "pg_ctl", "-D", self.data, "-l", self.root / "log", "-w", "-t", "60",
                             "-o", options, "start", check=False)
            if done.returncode == 0:
                return self
            error = done.stderr + (self.root / "log").read_text(errors="replace")[-2000:]
            self.port = 0
        raise RuntimeError(f"PostgreSQL did not start: {error}")

    def stop(self) -> None:
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop", check=False)

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A fresh, empty database; returns its URL."""
        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def create_schema(self, database: str = "postgres") -> str:
        """A fresh, empty schema in `database`, and a URL whose connections use it. Far cheaper than
        a database (no copy of the template's files): for suites that need hundreds of them."""
        name = "s_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url(database), autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{name}"')
        return f"{self.url(database)}?options=-csearch_path%3D{name}"
