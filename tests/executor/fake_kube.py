"""A small Kubernetes API server for every test that needs a cluster.

It speaks the real REST paths and JSON the `kubernetes` client uses (core, apps, batch,
autoscaling, networking, metrics), applies strategic-merge / merge / JSON patches, honours
`?dryRun=All` (validates, answers, stores nothing), answers 403 and 404 with Status objects,
and records every request so tests can prove which calls reached it. It can serve HTTPS with
a CA of its own (a second cluster is a second FakeKube, told apart by URL and CA), write a
kubeconfig for itself, and be slow to apply changes (the crash test kills a server mid-apply).
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
import ssl
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import yaml

GROUPS = {  # plural -> (path prefix, kind)
    "pods": ("api/v1", "Pod"), "nodes": ("api/v1", "Node"), "services": ("api/v1", "Service"),
    "endpoints": ("api/v1", "Endpoints"), "persistentvolumeclaims": ("api/v1", "PersistentVolumeClaim"),
    "configmaps": ("api/v1", "ConfigMap"), "events": ("api/v1", "Event"), "secrets": ("api/v1", "Secret"),
    "namespaces": ("api/v1", "Namespace"), "resourcequotas": ("api/v1", "ResourceQuota"),
    "persistentvolumes": ("api/v1", "PersistentVolume"),
    "deployments": ("apis/apps/v1", "Deployment"), "statefulsets": ("apis/apps/v1", "StatefulSet"),
    "daemonsets": ("apis/apps/v1", "DaemonSet"), "replicasets": ("apis/apps/v1", "ReplicaSet"),
    "controllerrevisions": ("apis/apps/v1", "ControllerRevision"), "jobs": ("apis/batch/v1", "Job"),
    "cronjobs": ("apis/batch/v1", "CronJob"),
    "horizontalpodautoscalers": ("apis/autoscaling/v2", "HorizontalPodAutoscaler"),
    "ingresses": ("apis/networking.k8s.io/v1", "Ingress"),
    "storageclasses": ("apis/storage.k8s.io/v1", "StorageClass"),
    "volumeattachments": ("apis/storage.k8s.io/v1", "VolumeAttachment"),
    "leases": ("apis/coordination.k8s.io/v1", "Lease"),
    "metrics-pods": ("apis/metrics.k8s.io/v1beta1", "PodMetrics"),
    "metrics-nodes": ("apis/metrics.k8s.io/v1beta1", "NodeMetrics"),
    # custom resources (kubevirt, CDI, HCO) and OpenShift kinds, served like any API group
    "kubevirts": ("apis/kubevirt.io/v1", "KubeVirt"),
    "virtualmachines": ("apis/kubevirt.io/v1", "VirtualMachine"),
    "virtualmachineinstances": ("apis/kubevirt.io/v1", "VirtualMachineInstance"),
    "dataimportcrons": ("apis/cdi.kubevirt.io/v1beta1", "DataImportCron"),
    "storageprofiles": ("apis/cdi.kubevirt.io/v1beta1", "StorageProfile"),
    "hyperconvergeds": ("apis/hco.kubevirt.io/v1beta1", "HyperConverged"),
    "routes": ("apis/route.openshift.io/v1", "Route"),
    "deploymentconfigs": ("apis/apps.openshift.io/v1", "DeploymentConfig"),
    "clusteroperators": ("apis/config.openshift.io/v1", "ClusterOperator"),
    "machineconfigpools": ("apis/machineconfiguration.openshift.io/v1", "MachineConfigPool"),
    "widgets": ("apis/example.com/v1", "Widget"),  # a kind no table of the executor knows: discovery only
}
CLUSTER_SCOPED = {"nodes", "namespaces", "persistentvolumes", "metrics-nodes", "storageclasses", "volumeattachments",
                  "storageprofiles", "clusteroperators", "machineconfigpools"}
SHORT_NAMES = {"pods": ["po"], "nodes": ["no"], "services": ["svc"], "persistentvolumeclaims": ["pvc"],
               "configmaps": ["cm"], "events": ["ev"], "namespaces": ["ns"], "deployments": ["deploy"],
               "statefulsets": ["sts"], "daemonsets": ["ds"], "replicasets": ["rs"], "storageclasses": ["sc"],
               "persistentvolumes": ["pv"], "horizontalpodautoscalers": ["hpa"], "ingresses": ["ing"],
               "virtualmachines": ["vm", "vms"], "virtualmachineinstances": ["vmi", "vmis"], "kubevirts": ["kv", "kvs"],
               "dataimportcrons": ["dic", "dics"], "hyperconvergeds": ["hco", "hcos"], "deploymentconfigs": ["dc"],
               "clusteroperators": ["co"], "machineconfigpools": ["mcp"]}
SCALABLE = {"deployments", "statefulsets", "replicasets"}


def _resource_list(group_version: str) -> dict:
    """The APIResourceList discovery serves for one group version."""
    prefix = ("api/" if group_version == "v1" else "apis/") + group_version
    resources = []
    for plural, (where, kind) in GROUPS.items():
        if where != prefix:
            continue
        name = plural.removeprefix("metrics-")
        resources.append({"name": name, "singularName": kind.lower(), "namespaced": plural not in CLUSTER_SCOPED,
                          "kind": kind, "verbs": ["get", "list", "patch", "delete", "watch"],
                          "shortNames": SHORT_NAMES.get(plural, [])})
        if plural == "pods":
            resources.append({"name": "pods/log", "singularName": "", "namespaced": True, "kind": "Pod", "verbs": ["get"]})
        if plural in SCALABLE:
            resources.append({"name": f"{plural}/scale", "singularName": "", "namespaced": True, "kind": "Scale",
                              "group": "autoscaling", "version": "v1", "verbs": ["get", "patch"]})
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources}


def _group_list() -> dict:
    versions: dict[str, list[str]] = {}
    for where, _ in GROUPS.values():
        if where.startswith("apis/"):
            group, version = where.split("/")[1:3]
            versions.setdefault(group, [])
            if version not in versions[group]:
                versions[group].append(version)
    groups = [{"name": g, "versions": [{"groupVersion": f"{g}/{v}", "version": v} for v in vs],
               "preferredVersion": {"groupVersion": f"{g}/{vs[0]}", "version": vs[0]}} for g, vs in versions.items()]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def status(code: int, reason: str, message: str) -> dict:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


def strategic_merge(live, patch):
    """Enough of strategic merge: maps merge, null deletes, named lists merge by name, $patch: replace."""
    if isinstance(patch, dict):
        if patch.get("$patch") == "replace":
            return {k: v for k, v in patch.items() if k != "$patch"}
        out = dict(live) if isinstance(live, dict) else {}
        for key, value in patch.items():
            if value is None:
                out.pop(key, None)
            else:
                out[key] = strategic_merge(out.get(key), value)
        return out
    if isinstance(patch, list) and patch and all(isinstance(i, dict) and "name" in i for i in patch) \
            and isinstance(live, list):
        merged = [copy.deepcopy(i) for i in live]
        for item in patch:
            idx = next((n for n, cur in enumerate(merged) if cur.get("name") == item["name"]), None)
            if idx is None:
                merged.append(item)
            else:
                merged[idx] = strategic_merge(merged[idx], item)
        return merged
    return copy.deepcopy(patch)


def json_patch(live: dict, ops: list) -> dict:
    out = copy.deepcopy(live)
    for op in ops:
        if op.get("op") not in ("replace", "add"):
            raise ValueError(f"unsupported op {op.get('op')}")
        parts = [p for p in op["path"].split("/") if p]
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = op["value"]
    return out


def _match_labels(obj: dict, selector: str) -> bool:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    for term in filter(None, selector.split(",")):
        if "!=" in term:
            k, v = term.split("!=", 1)
            if labels.get(k) == v:
                return False
        elif "=" in term:
            k, v = term.replace("==", "=").split("=", 1)
            if labels.get(k) != v:
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


def _match_fields(obj: dict, selector: str) -> bool:
    for term in filter(None, selector.split(",")):
        neg = "!=" in term
        k, v = term.replace("!=", "=").replace("==", "=").split("=", 1)
        cur = obj
        for part in k.split("."):
            cur = cur.get(part) if isinstance(cur, dict) else None
        if (str(cur) == v) == neg:
            return False
    return True


def _certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A CA of its own and a server certificate for 127.0.0.1 signed by it (PEM files)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"fake-kube-ca-{uuid.uuid4().hex[:8]}")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
          .not_valid_after(now + dt.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        """A client gone mid-answer is expected here (the crash test kills the server whose slow
        change is still in flight); anything else is printed as usual."""
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class FakeKube:
    def __init__(self, tls: bool = False, name: str = "fake"):
        self.name = name
        self.objects: dict[tuple[str, str | None], dict[str, dict]] = {}
        self.logs: dict[tuple[str, str, str | None, bool], str] = {}
        self.requests: list[dict] = []
        self.forbidden: list[tuple[str, str]] = []  # (method, path fragment) answered 403
        self.apply_delay = 0.0  # seconds a change (not a dry run) takes, after it was recorded
        self.lock = threading.Lock()
        self.httpd = _Server(("127.0.0.1", 0), self._handler())
        self.ca_pem: bytes | None = None
        if tls:
            self._folder = tempfile.TemporaryDirectory(prefix="fake-kube-")
            ca, cert, key = _certificates(Path(self._folder.name))
            self.ca_pem = ca.read_bytes()
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self.httpd.server_address[1]}"
        # A short poll: shutdown() waits for the serving loop to look up (0.5 s by default, per test).
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)

    def kubeconfig(self, path: Path, context: str | None = None) -> Path:
        """A kubeconfig for this server (its CA inline, a token), with one context."""
        context = context or f"{self.name}-context"
        cluster: dict = {"server": self.url}
        if self.ca_pem:
            cluster["certificate-authority-data"] = base64.b64encode(self.ca_pem).decode()
        config = {"apiVersion": "v1", "kind": "Config", "current-context": context,
                  "clusters": [{"name": self.name, "cluster": cluster}],
                  "users": [{"name": f"{self.name}-user", "user": {"token": f"token-{self.name}"}}],
                  "contexts": [{"name": context, "context": {"cluster": self.name, "user": f"{self.name}-user"}}]}
        path.write_text(yaml.safe_dump(config))
        return path

    def wait_for(self, predicate, timeout: float = 30.0) -> dict:
        """The first recorded request matching `predicate`, waiting for it to arrive."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                found = next((r for r in self.requests if predicate(r)), None)
            if found is not None:
                return found
            time.sleep(0.02)
        raise TimeoutError("the expected request never reached the fake API server")

    # -- state -----------------------------------------------------------------------------
    def add(self, plural: str, obj: dict) -> dict:
        prefix, kind = GROUPS[plural]
        meta = obj.setdefault("metadata", {})
        meta.setdefault("uid", str(uuid.uuid4()))
        meta.setdefault("creationTimestamp", "2026-01-01T00:00:00Z")
        meta.setdefault("resourceVersion", "1")
        meta.setdefault("generation", 1)
        obj.setdefault("kind", kind)
        obj.setdefault("apiVersion", prefix.removeprefix("apis/").removeprefix("api/"))
        ns = None if plural in CLUSTER_SCOPED else meta.setdefault("namespace", "default")
        self.objects.setdefault((plural, ns), {})[meta["name"]] = obj
        return obj

    def get(self, plural: str, name: str, namespace: str | None = None) -> dict | None:
        return self.objects.get((plural, None if plural in CLUSTER_SCOPED else namespace), {}).get(name)

    def changes(self) -> list[dict]:
        """Requests that would have changed the cluster (not dry-run)."""
        return [r for r in self.requests if r["method"] in ("PATCH", "DELETE", "POST", "PUT") and not r["dry_run"]]

    def start(self) -> FakeKube:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if getattr(self, "_folder", None) is not None:
            self._folder.cleanup()

    # -- HTTP ------------------------------------------------------------------------------
    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def _send(self, code: int, body, content_type: str = "application/json"):
                data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _serve(self):
                url = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(url.query).items()}
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                record = {"method": self.command, "path": url.path, "query": query, "body": body,
                          "content_type": self.headers.get("Content-Type"), "dry_run": query.get("dryRun") == "All"}
                with fake.lock:
                    fake.requests.append(record)
                if fake.apply_delay and not record["dry_run"] and self.command in ("PATCH", "DELETE"):
                    time.sleep(fake.apply_delay)  # a slow API server: the change arrived, not yet done
                with fake.lock:
                    for method, fragment in fake.forbidden:
                        if method in (self.command, "*") and fragment in url.path:
                            return self._send(403, status(403, "Forbidden", f'{url.path} is forbidden: User '
                                                          f'"system:serviceaccount:ops:faultmaven" cannot {self.command.lower()}'))
                    try:
                        code, out = fake.route(self.command, url.path, query, body, record["content_type"])
                    except ValueError as exc:
                        code, out = 422, status(422, "Invalid", str(exc))
                if isinstance(out, str):
                    return self._send(code, out, "text/plain")
                return self._send(code, out)

            do_GET = do_PATCH = do_DELETE = do_POST = do_PUT = _serve

        return Handler

    def route(self, method: str, path: str, query: dict, body, content_type: str | None):
        segs = [s for s in path.split("/") if s]
        discovery = self._discovery(method, segs)
        if discovery is not None:
            return 200, discovery
        if segs[:2] == ["api", "v1"]:
            prefix, rest = "api/v1", segs[2:]
        elif segs[:1] == ["apis"] and len(segs) >= 3:
            prefix, rest = "/".join(segs[:3]), segs[3:]
        else:
            return 404, status(404, "NotFound", f"the server could not find the requested resource {path}")
        ns = None
        if len(rest) >= 3 and rest[0] == "namespaces":
            ns, rest = rest[1], rest[2:]
        plural, name, sub = rest[0], (rest[1] if len(rest) > 1 else None), (rest[2] if len(rest) > 2 else None)
        if prefix.startswith("apis/metrics.k8s.io"):
            plural = "metrics-" + plural
        if plural not in GROUPS or GROUPS[plural][0] != prefix:
            return 404, status(404, "NotFound", f"the server could not find the requested resource {path}")
        if name is None and ns is None and plural not in CLUSTER_SCOPED:
            # every namespace at once (kubectl get -A)
            if method != "GET":
                return 405, status(405, "MethodNotAllowed", "collection changes are not served")
            everything = [o for (p, _), objs in sorted(self.objects.items(), key=lambda kv: str(kv[0])) if p == plural
                          for o in objs.values()]
            items = [o for o in everything
                     if _match_labels(o, query.get("labelSelector", "")) and _match_fields(o, query.get("fieldSelector", ""))]
            return 200, {"kind": GROUPS[plural][1] + "List", "apiVersion": "v1", "metadata": {}, "items": items}
        bucket = self.objects.setdefault((plural, ns), {})
        if name is None:
            if method != "GET":
                return 405, status(405, "MethodNotAllowed", "collection changes are not served")
            items = [o for o in bucket.values()
                     if _match_labels(o, query.get("labelSelector", "")) and _match_fields(o, query.get("fieldSelector", ""))]
            return 200, {"kind": GROUPS[plural][1] + "List", "apiVersion": "v1", "metadata": {}, "items": items}
        obj = bucket.get(name)
        if obj is None:
            what = plural.removeprefix("metrics-")
            return 404, status(404, "NotFound", f'{what} "{name}" not found')
        dry = query.get("dryRun") == "All"
        if sub == "log":
            previous, container = query.get("previous") == "true", query.get("container")
            text = self.logs.get((ns, name, container, previous))
            containers = [c.get("name") for c in (obj.get("spec") or {}).get("containers") or []]
            if text is None and container is not None and containers[:1] == [container]:
                text = self.logs.get((ns, name, None, previous))  # kubectl names the default container
            text = text or ""
            tail = int(query.get("tailLines", 0) or 0)
            lines = text.splitlines()
            return 200, "\n".join(lines[-tail:] if tail else lines)
        if sub == "scale" and plural in SCALABLE:
            scale = {"kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": {"name": name, "namespace": ns},
                     "spec": {"replicas": obj["spec"].get("replicas", 1)}, "status": {"replicas": obj["spec"].get("replicas", 1)}}
            if method == "PATCH":
                replicas = body["spec"]["replicas"]
                if not isinstance(replicas, int) or replicas < 0:
                    raise ValueError("spec.replicas must be a non-negative integer")
                scale["spec"]["replicas"] = replicas
                if not dry:
                    obj["spec"]["replicas"] = replicas
            return 200, scale
        if sub is not None:
            return 404, status(404, "NotFound", f"subresource {sub} not served")
        if method == "GET":
            return 200, obj
        if method == "DELETE":
            if not dry:
                del bucket[name]
            return 200, obj
        if method == "PATCH":
            if not isinstance(body, (dict, list)):
                raise ValueError("patch body must be JSON")
            obj = copy.deepcopy(obj)  # a dry run must leave the stored object untouched
            if content_type == "application/json-patch+json":
                new = json_patch(obj, body)
            elif content_type == "application/merge-patch+json":
                new = strategic_merge(obj, body) if isinstance(body, dict) else body
            elif content_type == "application/strategic-merge-patch+json":
                new = strategic_merge(obj, body)
            else:
                return 415, status(415, "UnsupportedMediaType", f"unsupported patch type {content_type}")
            new["metadata"]["resourceVersion"] = str(int(obj["metadata"].get("resourceVersion", "1")) + 1)
            if new.get("spec") != obj.get("spec"):
                new["metadata"]["generation"] = obj["metadata"].get("generation", 1) + 1
            if not dry:
                bucket[name] = new
            return 200, new
        return 405, status(405, "MethodNotAllowed", f"{method} not served")

    @staticmethod
    def _discovery(method: str, segs: list[str]) -> dict | None:
        """/api, /api/v1, /apis and /apis/GROUP/VERSION, as kubectl and the executor discover types."""
        if method != "GET":
            return None
        if segs == ["api"]:
            return {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}
        if segs == ["api", "v1"]:
            return _resource_list("v1")
        if segs == ["apis"]:
            return _group_list()
        if len(segs) == 3 and segs[0] == "apis" and f"apis/{segs[1]}/{segs[2]}" in {w for w, _ in GROUPS.values()}:
            return _resource_list(f"{segs[1]}/{segs[2]}")
        if segs == ["version"]:
            return {"major": "1", "minor": "32", "gitVersion": "v1.32.0-fake"}
        return None


# -- a production namespace with a crash-looping web deployment -----------------------------
NS = "production"
POD = "web-7d4b8c9f-x2k9m"
CTX = {"namespace": NS, "pod_name": POD, "deployment": "web", "container": "app",
       "label_selector": "app=web", "memory_limit": "1Gi", "revision": "1", "replicas": "3",
       "node_name": "node-1", "statefulset": "db", "hpa_name": "web"}


def _pod_template(image: str, memory: str) -> dict:
    return {"metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "app", "image": image,
                                     "env": [{"name": "DB_PASSWORD", "value": "hunter2"}],
                                     "resources": {"limits": {"memory": memory}}}]}}


def seed(fake: FakeKube) -> FakeKube:
    dep = fake.add("deployments", {"metadata": {"name": "web", "namespace": NS, "labels": {"app": "web"},
                                                "annotations": {"deployment.kubernetes.io/revision": "2"}},
                                   "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                                            "template": _pod_template("web:2.0", "256Mi")},
                                   "status": {"replicas": 2, "updatedReplicas": 2, "readyReplicas": 1,
                                              "availableReplicas": 1, "observedGeneration": 1}})
    uid = dep["metadata"]["uid"]
    for rev, image in ((1, "web:1.0"), (2, "web:2.0")):
        tmpl = _pod_template(image, "256Mi")
        tmpl["metadata"]["labels"]["pod-template-hash"] = f"h{rev}"
        rs = fake.add("replicasets", {"metadata": {"name": f"web-h{rev}", "namespace": NS, "labels": {"app": "web"},
                                                   "annotations": {"deployment.kubernetes.io/revision": str(rev)},
                                                   "ownerReferences": [{"kind": "Deployment", "name": "web", "uid": uid,
                                                                        "controller": True}]},
                                      "spec": {"replicas": 0 if rev == 1 else 2, "template": tmpl}})
    owner = [{"kind": "ReplicaSet", "name": "web-h2", "uid": rs["metadata"]["uid"], "controller": True}]
    fake.add("pods", {"metadata": {"name": POD, "namespace": NS, "labels": {"app": "web", "pod-template-hash": "h2"},
                                   "ownerReferences": owner},
                      "spec": {"nodeName": "node-1", "containers": [{"name": "app", "image": "web:2.0",
                                                                     "resources": {"limits": {"memory": "256Mi"}}}]},
                      "status": {"phase": "Running", "podIP": "10.0.0.7", "containerStatuses": [{
                          "name": "app", "ready": False, "restartCount": 7,
                          "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                          "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}}]}})
    fake.add("pods", {"metadata": {"name": "web-ok-1", "namespace": NS, "labels": {"app": "web"},
                                   "ownerReferences": owner},
                      "spec": {"containers": [{"name": "app", "image": "web:2.0"}]},
                      "status": {"phase": "Running", "containerStatuses": [{"name": "app", "ready": True,
                                                                            "restartCount": 0, "state": {"running": {}}}]}})
    fake.logs[(NS, POD, "app", True)] = "booting\nconnecting to db password=hunter2\nout of memory: killed"
    fake.logs[(NS, POD, None, True)] = "booting\nout of memory: killed"
    fake.logs[(NS, POD, None, False)] = "booting"
    fake.add("events", {"metadata": {"name": "ev1", "namespace": NS}, "type": "Warning", "reason": "BackOff",
                        "message": "Back-off restarting failed container", "count": 12,
                        "lastTimestamp": "2026-01-01T00:05:00Z",
                        "involvedObject": {"kind": "Pod", "name": POD, "namespace": NS}})
    fake.add("configmaps", {"metadata": {"name": "app-config", "namespace": NS},
                            "data": {"DATABASE_URL": "postgres://app:s3cret@db:5432/app"}})
    fake.add("secrets", {"metadata": {"name": "db-creds", "namespace": NS}, "data": {"password": "aHVudGVyMg=="}})
    fake.add("nodes", {"metadata": {"name": "node-1"}, "spec": {},
                       "status": {"conditions": [{"type": "Ready", "status": "True"},
                                                 {"type": "MemoryPressure", "status": "False"}]}})
    fake.add("statefulsets", {"metadata": {"name": "db", "namespace": NS},
                              "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "db"}},
                                       "template": {"metadata": {"labels": {"app": "db"}},
                                                    "spec": {"containers": [{"name": "db", "image": "pg:16"}]}}},
                              "status": {"replicas": 1, "updatedReplicas": 1, "availableReplicas": 1, "observedGeneration": 1}})
    fake.add("horizontalpodautoscalers", {"metadata": {"name": "web", "namespace": NS},
                                          "spec": {"minReplicas": 2, "maxReplicas": 4, "scaleTargetRef": {"name": "web"}},
                                          "status": {"currentReplicas": 4}})
    fake.add("metrics-pods", {"metadata": {"name": POD, "namespace": NS},
                              "containers": [{"name": "app", "usage": {"cpu": "250m", "memory": "240Mi"}}]})
    fake.add("namespaces", {"metadata": {"name": NS}})
    fake.add("namespaces", {"metadata": {"name": "kube-system"}})
    return fake


# -- a kubevirt-style cluster: operators in their own namespaces, custom resources --------------
KUBEVIRT_NS, CDI_NS, HCO_NS = "kubevirt", "cdi", "kubevirt-hyperconverged"


def _deployment(fake: FakeKube, ns: str, name: str, labels: dict, ready: int = 1) -> None:
    fake.add("deployments", {"metadata": {"name": name, "namespace": ns, "labels": labels},
                             "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                                      "template": {"metadata": {"labels": labels},
                                                   "spec": {"containers": [{"name": name, "image": f"{name}:1.0"}]}}},
                             "status": {"replicas": 1, "updatedReplicas": 1, "readyReplicas": ready,
                                        "availableReplicas": ready, "observedGeneration": 1}})


def seed_kubevirt(fake: FakeKube) -> FakeKube:
    for ns in (KUBEVIRT_NS, CDI_NS, HCO_NS):
        fake.add("namespaces", {"metadata": {"name": ns}})
    _deployment(fake, KUBEVIRT_NS, "virt-controller", {"kubevirt.io": "virt-controller"}, ready=0)
    _deployment(fake, KUBEVIRT_NS, "virt-api", {"kubevirt.io": "virt-api"})
    _deployment(fake, CDI_NS, "cdi-operator", {"name": "cdi-operator"})
    _deployment(fake, "kube-system", "coredns", {"k8s-app": "kube-dns"})
    fake.add("pods", {"metadata": {"name": "virt-controller-7f9c-abcde", "namespace": KUBEVIRT_NS,
                                   "labels": {"kubevirt.io": "virt-controller"}},
                      "spec": {"nodeName": "node-1", "containers": [{"name": "virt-controller", "image": "vc:1"}]},
                      "status": {"phase": "Running", "podIP": "10.0.1.5", "containerStatuses": [{
                          "name": "virt-controller", "ready": False, "restartCount": 4,
                          "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}})
    fake.add("pods", {"metadata": {"name": "coredns-1", "namespace": "kube-system", "labels": {"k8s-app": "kube-dns"}},
                      "spec": {"containers": [{"name": "coredns", "image": "coredns:1"}]},
                      "status": {"phase": "Running", "containerStatuses": [{"name": "coredns", "ready": True,
                                                                            "restartCount": 0}]}})
    fake.logs[(KUBEVIRT_NS, "virt-controller-7f9c-abcde", None, False)] = (
        "starting\nleader election: attempting to acquire lease kubevirt/virt-controller\n"
        "webhook admission denied: forbidden\nsuccessfully acquired lease kubevirt/virt-controller\n")
    fake.add("kubevirts", {"metadata": {"name": "kubevirt", "namespace": KUBEVIRT_NS},
                           "spec": {"configuration": {"developerConfiguration": {"featureGates": []}}},
                           "status": {"phase": "Deployed", "conditions": [
                               {"type": "Available", "status": "False", "reason": "DeploymentsNotReady"},
                               {"type": "Degraded", "status": "True", "reason": "VirtControllerDown"}]}})
    fake.add("dataimportcrons", {"metadata": {"name": "fedora-image-cron", "namespace": CDI_NS},
                                 "spec": {"template": {"spec": {"storage": {"storageClassName": "local"}}}},
                                 "status": {"lastImportedPVC": {"name": "fedora-1a2b"},
                                            "conditions": [{"type": "UpToDate", "status": "False"}]}})
    fake.add("storageprofiles", {"metadata": {"name": "local"}, "spec": {},
                                 "status": {"claimPropertySets": [{"accessModes": ["ReadWriteOnce"],
                                                                   "volumeMode": "Filesystem"}]}})
    fake.add("hyperconvergeds", {"metadata": {"name": "kubevirt-hyperconverged", "namespace": HCO_NS,
                                              "annotations": {"kubevirt.kubevirt.io/jsonpatch": "[]"}},
                                 "spec": {"featureGates": {"enableCommonBootImageImport": True}},
                                 "status": {"conditions": [{"type": "Available", "status": "True"}]}})
    for name, default in (("local", "true"), ("fast", "false")):
        fake.add("storageclasses", {"metadata": {"name": name, "annotations": {
            "storageclass.kubernetes.io/is-default-class": default}}, "provisioner": "kubernetes.io/no-provisioner"})
    fake.add("leases", {"metadata": {"name": "virt-controller", "namespace": KUBEVIRT_NS},
                        "spec": {"holderIdentity": "virt-controller-7f9c-abcde", "leaseDurationSeconds": 15}})
    return fake


# -- an OpenShift-style cluster: cluster operators, machine config pools, routes ---------------
def seed_openshift(fake: FakeKube) -> FakeKube:
    for ns in ("openshift-ingress", "openshift-monitoring", "openshift-etcd"):
        fake.add("namespaces", {"metadata": {"name": ns}})
    fake.add("clusteroperators", {"metadata": {"name": "ingress"}, "spec": {}, "status": {"conditions": [
        {"type": "Available", "status": "True"}, {"type": "Degraded", "status": "True", "reason": "IngressDegraded",
                                                   "message": "router pods are not ready"}]}})
    fake.add("clusteroperators", {"metadata": {"name": "etcd"}, "spec": {}, "status": {"conditions": [
        {"type": "Available", "status": "True"}, {"type": "Degraded", "status": "False"}]}})
    fake.add("machineconfigpools", {"metadata": {"name": "worker"}, "spec": {"paused": False},
                                    "status": {"machineCount": 3, "readyMachineCount": 2, "degradedMachineCount": 1}})
    _deployment(fake, "openshift-ingress", "router-default", {"ingresscontroller.operator.openshift.io/deployment-ingresscontroller": "default"}, ready=1)
    fake.add("routes", {"metadata": {"name": "console", "namespace": "openshift-monitoring"},
                        "spec": {"host": "console.apps.example.test", "to": {"kind": "Service", "name": "console"}}})
    fake.add("pods", {"metadata": {"name": "router-default-5d8-qwert", "namespace": "openshift-ingress",
                                   "labels": {"ingresscontroller.operator.openshift.io/deployment-ingresscontroller": "default"}},
                      "spec": {"nodeName": "node-1", "containers": [{"name": "router", "image": "router:4.16"}]},
                      "status": {"phase": "Running", "containerStatuses": [{"name": "router", "ready": False,
                                                                            "restartCount": 2}]}})
    return fake
