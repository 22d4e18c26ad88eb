"""Shared helpers for the HTTP tests (fixtures live in conftest.py)."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import uvicorn

from faultmaven_runbooks.settings import Settings

FIXTURES = Path(__file__).parent / "fixtures"
TOKEN = "test-token-0123456789abcdef"

RUNBOOKS = {
    "static/compute/pod-crashloop.md": """---
id: pod-crashloop
title: Pod CrashLoopBackOff
type: static
severity: high
tags: [kubernetes, pods, crashloop]
alerts: [KubePodCrashLooping]
service: kubernetes
---
# Pod CrashLoopBackOff

## Problem Summary
A pod restarts over and over: the container exits and the kubelet backs off (CrashLoopBackOff).
Alert KubePodCrashLooping fires: pod is crash looping.

## Diagnosis Steps
Check the pod status:
`kubectl get pod {pod_name} -n {namespace}`

Read the logs of the previous container:
`kubectl logs {pod_name} -n {namespace} --previous`

## Solution
Roll the deployment back if a release caused it:
`kubectl rollout undo deployment/{deployment} -n {namespace}`
""",
    "static/storage/disk-full.md": """---
id: disk-full
title: Node Disk Almost Full
type: static
severity: critical
tags: [disk, storage, node]
alerts: [NodeFilesystemSpaceFillingUp]
---
# Node Disk Almost Full

## Problem Summary
The filesystem on a node is filling up; NodeFilesystemSpaceFillingUp fires and pods get evicted
for ephemeral-storage pressure.

## Diagnosis Steps
`kubectl describe node {node}`

## Solution
Delete old images and logs; expand the volume.
""",
    "static/database/redis-oom.md": """---
id: redis-oom
title: Redis Cluster OOM Kills
type: static
severity: critical
tags: [redis, memory, oom]
---
# Redis Cluster OOM Kills

## Problem Summary
Redis pods restart with OOMKilled; connection refused on port 6379; session objects too large.

## Solution
`kubectl rollout restart statefulset/redis -n {namespace}`
""",
    "dynamic/incidents/latency.md": """---
id: api-latency
title: API Latency Spike After Deploy
type: dynamic
severity: medium
tags: [latency, api]
---
# API Latency Spike After Deploy

## Problem Summary
p99 latency of the API rises after a deployment; slow database queries and timeouts.

## Solution
`kubectl rollout undo deployment/api -n {namespace}`
""",
}


def write_library(root: Path) -> Path:
    for rel, text in RUNBOOKS.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def make_settings(library: Path, data: Path, **extra) -> Settings:
    return Settings(library_dir=library, data_dir=data, embedding_model="hash:256", **extra)


def make_mcp_server(service, metrics=None):
    from faultmaven_runbooks.adapters.mcp.server import build_server

    return build_server(service, metrics=metrics)


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


class LiveServer:
    """uvicorn serving an app on a pre-bound loopback socket, in a background thread."""

    def __init__(self, app):
        self.sock = free_socket()
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=2))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.time() + 20
        while not self.server.started:
            if time.time() > deadline or not self.thread.is_alive():
                raise RuntimeError("test server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


def load_fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()
