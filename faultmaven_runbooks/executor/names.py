"""Placeholder styles -> context keys: `<pod name from previous step>`, `$POD`, `${POD}`, `{pod_name}`
and `{{ $labels.pod }}` all ask for `pod_name`.

The rule is small and said once: lower-case, words joined by `_`, descriptive tails ("from
previous step", "label from alert", "value of ...") dropped, then the aliases below. A name
that is no alias keeps its own key (`$CDI_NAMESPACE` -> `cdi_namespace`), so anything unknown
is asked for by the name the runbook gave it.
"""

from __future__ import annotations

import re

# canonical key -> the names people write for it (after normalising)
ALIASES: dict[str, tuple[str, ...]] = {
    "namespace": ("namespace", "ns", "namespace_name", "my_namespace", "project", "project_name", "target_namespace"),
    "pod_name": ("pod", "pod_name", "podname", "my_pod", "pod_id"),
    "node_name": ("node", "node_name", "nodename", "my_node", "node_host", "hostname"),
    "container": ("container", "container_name", "my_container"),
    "deployment": ("deployment", "deploy", "deployment_name", "my_deployment"),
    "statefulset": ("statefulset", "sts", "statefulset_name", "stateful_set"),
    "daemonset": ("daemonset", "ds", "daemonset_name", "daemon_set"),
    "replicaset": ("replicaset", "rs", "replicaset_name"),
    "job_name": ("job", "job_name", "jobname"),
    "cronjob_name": ("cronjob", "cronjob_name", "cron_job"),
    "pvc_name": ("pvc", "pvc_name", "my_pvc", "claim", "claim_name", "persistentvolumeclaim", "volume_claim"),
    "pv_name": ("pv", "pv_name", "persistentvolume", "persistent_volume"),
    "service_name": ("service", "svc", "service_name", "my_service"),
    "configmap_name": ("configmap", "cm", "configmap_name", "config_map"),
    "ingress_name": ("ingress", "ingress_name"),
    "hpa_name": ("hpa", "hpa_name", "autoscaler"),
    "label_selector": ("selector", "label_selector", "labels", "label"),
    "storage_class": ("storageclass", "storage_class", "storage_class_name", "storageclass_name", "sc"),
    "vm_name": ("vm", "vm_name", "virtual_machine", "virtualmachine", "my_vm"),
    "vmi_name": ("vmi", "vmi_name", "virtualmachineinstance"),
}
_ALIAS = {alias: key for key, names in ALIASES.items() for alias in names}
_TAIL = re.compile(r"\s+(from|of the|in|for|that|which|returned|shown|listed|as|e\.g\.|eg|you|to)\s.*$|"
                   r"\s+(from|in)\s+(the\s+)?(previous|above|alert|output|step).*$", re.I)
_HEAD = re.compile(r"^(the|a|an|your|value of( the)?|name of( the)?|alert)\s+", re.I)


def normalise(raw: str) -> str:
    """`Pod name from previous step` -> `pod_name`; `$CDI_NAMESPACE` -> `cdi_namespace`."""
    label = re.fullmatch(r"\{\{\s*\$?\.?(?:[Ll]abels|CommonLabels)\.(\w+)\s*\}\}", raw.strip())
    text = label.group(1) if label else raw.strip().strip("<>{}$ ").strip()
    text = _TAIL.sub("", text)
    for _ in range(3):
        text = _HEAD.sub("", text)
    slug = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    slug = re.sub(r"_label$", "", slug) if slug != "label" else slug  # "namespace label" (of an alert)
    return slug or "value"


def key_for(raw: str) -> str:
    """The context key a placeholder or variable asks for."""
    slug = normalise(raw)
    return _ALIAS.get(slug, slug)
