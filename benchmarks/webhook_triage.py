"""Alertmanager webhook answer time: p50/p99 for a 20-alert notification through a served process.

Each scenario starts its own `faultmaven-runbooks serve` (fresh data dir, SQLite state) with a
generic notification receiver that answers, is down (connection refused) or hangs (accepts and
never answers). Each round posts a new group of 20 alerts (first send: triage, records, one
notification per alert queued) and then the same notification again (a re-send: records updated,
answered from the record, nobody told). A receiver that is down or hanging must not show in the
answer times: delivery happens in the background.

The alerts are the real Alertmanager sample in ../shared/eval with the alert names and summaries of
alert_queries.jsonl (fallback: the sample's own alert), each round with fresh fingerprints.

    .venv/bin/python benchmarks/webhook_triage.py                        # bundled model, 20 rounds
    .venv/bin/python benchmarks/webhook_triage.py --model hash:256 --rounds 5   # quick run
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from _common import EVAL, ROOT, percentile, scratch, table
from http_load import free_port, serve_http, wait_ready

ALERTS = 20


def templates() -> list[dict]:
    """20 alerts shaped like the real sample, named after real Prometheus alerts."""
    sample = json.loads((EVAL / "alertmanager_webhook_sample.wire.json").read_text())["alerts"][0]
    names: list[dict] = []
    path = EVAL / "alert_queries.jsonl"
    if path.exists():
        names = [json.loads(line) for line in path.read_text().splitlines()][:ALERTS]
    out = []
    for n in range(ALERTS):
        alert = json.loads(json.dumps(sample))
        if names:
            row = names[n % len(names)]
            alert["labels"].update(alertname=row["alertname"], severity=row.get("severity", "warning"))
            alert["annotations"] = {"summary": row.get("summary_rendered") or row.get("summary", ""),
                                    "description": row.get("description", "")[:500]}
        alert["labels"]["pod"] = f"{alert['labels'].get('pod', 'pod')}-{n}"
        out.append(alert)
    return out


def notification(alerts: list[dict], round_no: int) -> bytes:
    group = []
    for n, alert in enumerate(alerts):
        group.append({**alert, "fingerprint": f"{round_no:06x}{n:02x}{secrets.token_hex(4)}"})
    return json.dumps({"version": "4", "status": "firing", "receiver": "runbooks", "groupKey": f"{{}}:{{r={round_no}}}",
                       "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {}, "truncatedAlerts": 0,
                       "externalURL": "http://alertmanager:9093", "alerts": group}).encode()


class HangingReceiver:
    """Accepts connections and never answers: a receiver that is up but stuck."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/hook"


class AnsweringReceiver:
    """Answers 200 to every POST (a healthy receiver), counting them."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        receiver = self
        self.count = 0

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.count += 1
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"


def down_url() -> str:
    """A port nobody listens on: every delivery is refused and retried in the background."""
    return f"http://127.0.0.1:{free_port()}/hook"


def serve(args, name: str, receiver_url: str, token: str) -> tuple[subprocess.Popen, str]:
    env = {"FAULTMAVEN_RUNBOOKS_AUTH_TOKEN": token, "FAULTMAVEN_RUNBOOKS_NOTIFY_WEBHOOK_URL": receiver_url,
           "FAULTMAVEN_RUNBOOKS_WEBHOOK_DRY_RUN": "true" if args.dry_run else "false"}
    if args.model:
        env["FAULTMAVEN_RUNBOOKS_EMBEDDING_MODEL"] = args.model
    return serve_http(args.library, scratch(f"webhook_triage/{name}"), env)


def measure(url: str, token: str, rounds: int) -> tuple[list[float], list[float], int]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
               "User-Agent": "Alertmanager/0.27.0"}
    first, again, errors = [], [], 0
    alerts = templates()
    with httpx.Client(base_url=url, headers=headers, timeout=120) as client:
        for round_no in range(rounds):
            body = notification(alerts, round_no)
            for times in (first, again):
                started = time.perf_counter()
                answer = client.post("/webhooks/alertmanager", content=body)
                times.append((time.perf_counter() - started) * 1000)
                errors += answer.status_code != 200
    return first, again, errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--library", type=Path, default=ROOT / "runbooks")
    parser.add_argument("--model", help="embedding model for the served process (default: the bundled model)")
    parser.add_argument("--rounds", type=int, default=20, help="notifications per scenario (each sent twice)")
    parser.add_argument("--dry-run", action="store_true", help="serve with WEBHOOK_DRY_RUN=true")
    args = parser.parse_args()

    answering = AnsweringReceiver()
    scenarios = [("receiver answers", answering.url), ("receiver down", down_url()),
                 ("receiver hangs", HangingReceiver().url)]
    rows, failed = [], 0
    for name, receiver_url in scenarios:
        token = secrets.token_urlsafe(24)
        proc, url = serve(args, name.replace(" ", "-"), receiver_url, token)
        try:
            wait_ready(url, token, proc, timeout=600)
            first, again, errors = measure(url, token, args.rounds)
        finally:
            proc.terminate()
            proc.wait(30)
        failed += errors
        for what, times in (("first send", first), ("re-send", again)):
            rows.append([name, what, len(times), errors,
                         *(f"{v:.0f}" for v in (percentile(times, 50), percentile(times, 99), max(times)))])
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"{ALERTS}-alert Alertmanager notifications, {args.rounds} rounds per scenario, "
          f"dry run {'on' if args.dry_run else 'off'}, model {args.model or 'bundled'}; load average {load}")
    print(table(["receiver", "send", "requests", "errors", "p50 ms", "p99 ms", "max ms"], rows))
    print(f"healthy receiver got {answering.count} notifications (expected {ALERTS * args.rounds}: none for re-sends)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
