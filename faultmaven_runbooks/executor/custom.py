"""Kinds outside the typed client (custom resources, OpenShift kinds, storage and admission
APIs): requests on the paths API discovery gives, with the client's own credentials, and their
changes on the same server dry run first. Paths are built from validated names only.
"""

from __future__ import annotations

import json
from typing import Any

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from . import changes
from .apiresult import KubeError, Outcome, api_message
from .discovery import Resource
from .operation import Operation
from .redact import object_diff


class CustomResources:
    def __init__(self, client: k8s.ApiClient, host: str, timeout: float):
        self.client = client
        self.host = host
        self.timeout = timeout

    def request(self, method: str, path: str, query: list[tuple[str, str]] | None = None, body: object = None,
                content_type: str | None = None) -> bytes:
        """One request on a path from discovery (custom resources, OpenShift kinds), with the
        client's own credentials; the path is built from validated names only."""
        headers = {"Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        try:
            args = self.client.param_serialize(method=method, resource_path=path, query_params=query or [],
                                               header_params=headers, body=body, auth_settings=["BearerToken"])
            response = self.client.call_api(*args, _request_timeout=self.timeout)
            data: bytes = response.read()  # RESTResponse.data is declared None until read() fills it
        except (HTTPError, OSError) as exc:
            raise KubeError(f"cannot reach the Kubernetes API at {self.host} ({type(exc).__name__})") from None
        if not 200 <= response.status < 300:
            raise KubeError(api_message(ApiException(status=response.status, reason=response.reason,
                                                      body=data.decode("utf-8", "replace"))), response.status)
        return data

    def json(self, method: str, path: str, query: list[tuple[str, str]] | None = None, body: object = None,
             content_type: str | None = None) -> dict[str, Any]:
        """request(), its answer read as a JSON object (an empty body is an empty object)."""
        answer: dict[str, Any] = json.loads(self.request(method, path, query, body, content_type) or b"{}")
        return answer


    def change(self, op: Operation, apply: bool, resource: Resource) -> Outcome:
        """patch / label / annotate / delete of a custom resource: the same server dry run first."""
        path = resource.path(op.namespace, op.name)
        live = self.json("GET", path)  # pre-check: the target exists and we may read it
        label = f"{resource.plural}.{resource.group}/{op.name}" if resource.group else f"{resource.plural}/{op.name}"
        dry = [("dryRun", "All")]
        if op.verb == "delete":
            self.request("DELETE", path, dry)
            diff = f"--- {label} (live)\n+++ {label} (after change)\n- {label} (deleted)"
            if apply:
                self.request("DELETE", path)
            return Outcome(f"{'applied' if apply else 'server dry run (dryRun=All) accepted'}: {op.describe()}", diff)
        body: changes.PatchBody
        try:
            if op.verb in ("label", "annotate"):
                body, ctype = changes.label_patch(op, live)
            elif op.verb == "patch":
                body, ctype = changes.user_patch(op)
            else:
                raise changes.ChangeError(f"{op.verb} is not available for {resource.plural}")
        except changes.ChangeError as exc:
            raise KubeError(str(exc), 422) from None
        after = self.json("PATCH", path, dry, body, ctype)
        diff = object_diff(live, after, label)
        if not apply:
            return Outcome(f"server dry run (dryRun=All) accepted: {op.describe()}", diff, [(op.kind, after)])
        applied = self.json("PATCH", path, None, body, ctype)
        return Outcome(f"applied: {op.describe()}", diff, [(op.kind, applied)])
