"""A tiny Kubernetes API server speaking the real REST paths and JSON the executor uses here:
pods (get, log), deployments (get) and the deployment scale subresource (get, patch, dryRun)."""

from __future__ import annotations

import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route


def _status(code: int, reason: str, message: str) -> JSONResponse:
    return JSONResponse({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                         "message": message, "reason": reason, "code": code}, status_code=code)


class KubeStub:
    def __init__(self, namespace: str = "shop"):
        self.namespace = namespace
        self.replicas = {"web": 2}
        self.requests: list[tuple[str, str, str]] = []  # method, path, query

    def pod(self, ns: str, name: str) -> dict:
        return {"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": name, "namespace": ns, "creationTimestamp": "2025-03-14T08:00:00Z",
                             "labels": {"app": "web"}},
                "spec": {"containers": [{"name": "app", "image": "shop/web:1.2"}]},
                "status": {"phase": "Running", "containerStatuses": [
                    {"name": "app", "ready": False, "restartCount": 7, "image": "shop/web:1.2",
                     "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}}

    def scale(self, ns: str, name: str, replicas: int) -> dict:
        return {"apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": {"name": name, "namespace": ns},
                "spec": {"replicas": replicas}, "status": {"replicas": self.replicas[name]}}

    def app(self) -> Starlette:
        async def record(request: Request):
            self.requests.append((request.method, request.url.path, request.url.query))

        async def get_pod(request: Request):
            await record(request)
            p = request.path_params
            return JSONResponse(self.pod(p["ns"], p["name"]))

        async def pod_log(request: Request):
            await record(request)
            return PlainTextResponse("panic: cannot connect to database\n")

        async def deployment(request: Request):
            await record(request)
            p = request.path_params
            if p["name"] not in self.replicas:
                return _status(404, "NotFound", f'deployments.apps "{p["name"]}" not found')
            return JSONResponse({"apiVersion": "apps/v1", "kind": "Deployment",
                                 "metadata": {"name": p["name"], "namespace": p["ns"]},
                                 "spec": {"replicas": self.replicas[p["name"]],
                                          "selector": {"matchLabels": {"app": p["name"]}}}})

        async def scale(request: Request):
            await record(request)
            p = request.path_params
            if p["name"] not in self.replicas:
                return _status(404, "NotFound", f'deployments.apps "{p["name"]}" not found')
            if request.method == "GET":
                return JSONResponse(self.scale(p["ns"], p["name"], self.replicas[p["name"]]))
            want = json.loads(await request.body())["spec"]["replicas"]
            if request.query_params.get("dryRun") != "All":
                self.replicas[p["name"]] = want
            return JSONResponse(self.scale(p["ns"], p["name"], want))

        return Starlette(routes=[
            Route("/api/v1/namespaces/{ns}/pods/{name}", get_pod),
            Route("/api/v1/namespaces/{ns}/pods/{name}/log", pod_log),
            Route("/apis/apps/v1/namespaces/{ns}/deployments/{name}", deployment),
            Route("/apis/apps/v1/namespaces/{ns}/deployments/{name}/scale", scale, methods=["GET", "PATCH"]),
        ])

    def patches(self, dry_run: bool) -> list[tuple[str, str, str]]:
        return [r for r in self.requests if r[0] == "PATCH" and ("dryRun=All" in r[2]) == dry_run]
