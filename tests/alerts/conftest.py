"""Notification tests: real HTTP receivers on port 0, a real state store, short backoffs."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from faultmaven_runbooks.alerts.events import AlertEvent, RunbookMatch
from faultmaven_runbooks.alerts.notify import Notifier
from faultmaven_runbooks.settings import NotifySettings, Settings
from faultmaven_runbooks.storage import StateStore, open_store

# The state-store fixtures on SQLite and a real PostgreSQL server (for the delivery log's races).
from tests.storage.conftest import backend, db_settings, replica, store  # noqa: F401

SLACK_TOKEN = "T0SECRET1/B0SECRET2/slackSecretToken0123456789"
ROUTING_KEY = "R0UTINGKEYsecret0123456789abcdef"
SHARED_SECRET = "hmac-shared-secret-0123456789"
HOOK_TOKEN = "hookQueryToken0123456789"


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False  # never answer (until the test ends)
    echo: bool = False  # answer with the request's path, headers and body (a receiver that quotes it back)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    def json(self) -> dict:
        return json.loads(self.body)


class Receiver:
    """A real HTTP server that answers with the scripted replies in order, then `default`."""

    def __init__(self, *replies: Reply, default: Reply | None = None):
        self.replies = list(replies)
        self.default = default or Reply()
        self.requests: list[Received] = []
        self.released = threading.Event()
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def _next(self, received: Received) -> Reply:
        with self._lock:
            self.requests.append(received)
            return self.replies.pop(0) if self.replies else self.default

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                reply = receiver._next(Received(self.path, dict(self.headers), body, time.monotonic()))
                if reply.hang:
                    receiver.released.wait(30)
                    return
                answer = reply.body
                if reply.echo:
                    answer = f"refused {body.decode()[:60]} at {self.path} {dict(self.headers)}".encode()
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        return Handler

    def wait_for(self, count: int, timeout: float = 10) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return list(self.requests)

    def close(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receivers() -> Iterator[Callable[..., Receiver]]:
    made: list[Receiver] = []

    def make(*replies: Reply, default: Reply | None = None) -> Receiver:
        made.append(Receiver(*replies, default=default))
        return made[-1]

    yield make
    for receiver in made:
        receiver.close()


@pytest.fixture
def state(tmp_path, clock) -> Iterator[StateStore]:
    """A SQLite state store: the delivery log the notifier writes to."""
    opened = open_store(Settings(_env_file=None, data_dir=tmp_path / "state", embedding_model="hash:256"), clock)
    yield opened
    opened.close()


def fast(**overrides) -> NotifySettings:
    """Settings with backoffs short enough for tests (the delays are real sleeps)."""
    values = {"notify_backoff_seconds": 0.02, "notify_backoff_max_seconds": 0.2, "notify_timeout_seconds": 2.0,
              "notify_drain_seconds": 5.0, **overrides}
    return NotifySettings(**values)


@pytest.fixture
def notifiers(state, clock) -> Iterator[Callable[..., Notifier]]:
    """Started notifiers on the test's store and clock; closed at the end."""
    made: list[Notifier] = []

    def make(settings: NotifySettings) -> Notifier:
        made.append(Notifier(settings, state.deliveries, clock=clock).start())
        return made[-1]

    yield make
    for notifier in made:
        notifier.close(drain_seconds=0)


def alert(transition: str = "new", fingerprint: str = "3f9c2a1b7d4e5f60", **extra) -> AlertEvent:
    values = {
        "fingerprint": fingerprint, "transition": transition, "alertname": "KubePodCrashLooping",
        "severity": "critical", "summary": "Pod payments/api-7d9f is crash looping",
        "description": "Pod payments/api-7d9f (api) is in waiting state (reason: CrashLoopBackOff).",
        "labels": {"alertname": "KubePodCrashLooping", "namespace": "payments", "pod": "api-7d9f",
                   "container": "api", "severity": "critical", "job": "kube-state-metrics"},
        "starts_at": dt.datetime(2031, 5, 17, 9, 12, tzinfo=dt.UTC),
        "ends_at": dt.datetime(2031, 5, 17, 9, 41, tzinfo=dt.UTC) if transition == "resolved" else None,
        "generator_url": "http://prometheus.example:9090/graph?g0.expr=up",
        "runbook": RunbookMatch(id="pod-crashloop", title="Pod CrashLoopBackOff", score=0.87,
                                section="Pod CrashLoopBackOff > Diagnosis Steps",
                                why="alert name KubePodCrashLooping; keywords crash, loop"),
        "approval_execution_id": "exec-0123456789ab",
        **extra,
    }
    return AlertEvent(**values)
