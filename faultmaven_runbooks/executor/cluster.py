"""Which cluster the executor talks to: the connection from settings, and its identity.

The identity (API server URL, CA certificate fingerprint, kubeconfig context) goes into every
plan hash, so an approval given for a plan made on one cluster can never apply it to another
(a second kubeconfig, a CLI on another machine, a server restarted with other settings).
"""

from __future__ import annotations

import hashlib
import ssl
from pathlib import Path

from kubernetes import client as k8s
from kubernetes import config as k8s_config

from .models import ClusterIdentity


class NoCluster(Exception):
    """No usable cluster configuration (the message says which settings to fix)."""


def connect(settings) -> tuple[k8s.Configuration, ClusterIdentity]:
    """Cluster access from settings only: in-cluster service account, or kubeconfig (+ context)."""
    cfg = k8s.Configuration()
    try:
        if settings.in_cluster:
            k8s_config.load_incluster_config(client_configuration=cfg)
            context = "in-cluster"
        else:
            path = str(settings.kubeconfig) if settings.kubeconfig else None
            k8s_config.load_kube_config(config_file=path, context=settings.kube_context, client_configuration=cfg,
                                        persist_config=False)
            context = settings.kube_context or k8s_config.list_kube_config_contexts(config_file=path)[1]["name"]
    except Exception as exc:  # ConfigException, OSError, yaml errors: all mean "no usable cluster config"
        raise NoCluster(f"no usable cluster configuration ({str(exc)[:200]}); set FAULTMAVEN_RUNBOOKS_KUBECONFIG "
                        "(and FAULTMAVEN_RUNBOOKS_KUBE_CONTEXT) or FAULTMAVEN_RUNBOOKS_IN_CLUSTER") from None
    return cfg, identity_of(cfg, context)


def identity_of(cfg: k8s.Configuration, context: str | None = None) -> ClusterIdentity:
    return ClusterIdentity(server=(cfg.host or "").rstrip("/"), ca_sha256=_ca_fingerprint(cfg), context=context)


def _ca_fingerprint(cfg: k8s.Configuration) -> str | None:
    """SHA-256 of the CA certificate (DER), whitespace and PEM framing aside."""
    pem = None
    ca_data = getattr(cfg, "ca_cert_data", None)
    if ca_data:
        pem = ca_data if isinstance(ca_data, str) else ca_data.decode()
    elif cfg.ssl_ca_cert:
        try:
            pem = Path(cfg.ssl_ca_cert).read_text()
        except OSError:
            return None
    if not pem:
        return None
    try:
        der = ssl.PEM_cert_to_DER_cert(pem.strip())
    except ValueError:
        der = pem.encode()
    return hashlib.sha256(der).hexdigest()
