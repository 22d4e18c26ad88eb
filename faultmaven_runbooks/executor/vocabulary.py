"""The kubectl vocabulary the executor knows: kinds, verbs, flags, and what is off limits."""

from __future__ import annotations

import re

# Flags that point kubectl at another cluster or identity: credential/target redirection.
FORBIDDEN_FLAGS = {
    "--kubeconfig", "--context", "--cluster", "--server", "-s", "--token", "--as", "--as-group",
    "--as-uid", "--user", "--username", "--password", "--client-certificate", "--client-key",
    "--certificate-authority", "--insecure-skip-tls-verify", "--tls-server-name", "--cache-dir",
    "--raw", "--profile", "--profile-output",
}
BULK_FLAGS = {"-A": "-A/--all-namespaces", "--all-namespaces": "-A/--all-namespaces", "--all": "--all"}

# canonical plural -> (aliases, namespaced)
KINDS: dict[str, tuple[set[str], bool]] = {
    "pods": ({"po", "pod"}, True), "deployments": ({"deploy", "deployment"}, True),
    "statefulsets": ({"sts", "statefulset"}, True), "daemonsets": ({"ds", "daemonset"}, True),
    "replicasets": ({"rs", "replicaset"}, True), "jobs": ({"job"}, True),
    "cronjobs": ({"cj", "cronjob"}, True), "nodes": ({"no", "node"}, False),
    "services": ({"svc", "service"}, True), "endpoints": ({"ep"}, True),
    "persistentvolumeclaims": ({"pvc", "pvcs", "persistentvolumeclaim"}, True),
    "configmaps": ({"cm", "configmap"}, True),
    "horizontalpodautoscalers": ({"hpa", "horizontalpodautoscaler"}, True),
    "ingresses": ({"ing", "ingress"}, True), "events": ({"ev", "event"}, True),
    "resourcequotas": ({"quota", "resourcequota"}, True), "namespaces": ({"ns", "namespace"}, False),
    "secrets": ({"secret"}, True), "serviceaccounts": ({"sa", "serviceaccount"}, True),
    "roles": ({"role"}, True), "rolebindings": ({"rolebinding"}, True),
    "clusterroles": ({"clusterrole"}, False), "clusterrolebindings": ({"clusterrolebinding"}, False),
    "networkpolicies": ({"netpol", "networkpolicy"}, True), "persistentvolumes": ({"pv", "persistentvolume"}, False),
    "storageclasses": ({"sc", "storageclass"}, False), "endpointslices": ({"endpointslice"}, True),
    "poddisruptionbudgets": ({"pdb", "poddisruptionbudget"}, True),
}
ALIAS = {a: k for k, (aliases, _) in KINDS.items() for a in aliases | {k}}
WORKLOADS = {"deployments", "statefulsets", "daemonsets"}
VERB_KINDS = {
    "logs": {"pods", "jobs", "deployments", "statefulsets", "daemonsets"},
    "top": {"pods", "nodes"},
    "scale": {"deployments", "statefulsets", "replicasets"},
    "patch": WORKLOADS | {"replicasets", "cronjobs", "jobs", "horizontalpodautoscalers", "persistentvolumeclaims"},
    "set-resources": WORKLOADS | {"replicasets"},
    "cordon": {"nodes"}, "uncordon": {"nodes"},
}
# Verbs kubectl has that the executor does not run, and why.
MANUAL_VERBS = {
    "exec": "runs commands inside a container (remote code execution)",
    "cp": "copies files in or out of a container", "attach": "attaches to a running container",
    "proxy": "opens a proxy to the API server", "port-forward": "opens a network tunnel",
    "run": "starts an arbitrary image", "debug": "starts a debug container with node or pod access",
    "apply": "applies arbitrary manifests", "create": "creates arbitrary objects",
    "replace": "replaces whole objects", "edit": "opens an editor", "drain": "evicts every pod on a node",
    "taint": "changes node scheduling for every pod", "expose": "creates a Service",
    "autoscale": "creates an autoscaler", "wait": "blocks on a condition", "auth": "queries RBAC",
    "certificate": "approves certificates", "plugin": "runs kubectl plugins",
    "explain": "prints API documentation", "api-resources": "lists API types", "version": "prints versions",
    "cluster-info": "dumps cluster data", "completion": "prints shell code", "kustomize": "builds manifests",
}
BOOL, STR, INT, OPT = "bool", "str", "int", "opt"
GLOBAL_FLAGS = {"-n": ("namespace", STR), "--namespace": ("namespace", STR), "--dry-run": ("dry_run", OPT),
           "--request-timeout": ("request_timeout", STR)}
_SEL = {"-l": ("selector", STR), "--selector": ("selector", STR)}
SPECS = {
    "get": {"-o": ("output", STR), "--output": ("output", STR), **_SEL,
            "--field-selector": ("field_selector", STR), "--sort-by": ("sort_by", STR),
            "--show-labels": ("show_labels", BOOL), "--no-headers": ("no_headers", BOOL),
            "-w": ("watch", BOOL), "--watch": ("watch", BOOL)},
    "describe": {**_SEL, "--show-events": ("show_events", BOOL)},
    "logs": {"-c": ("container", STR), "--container": ("container", STR), "-p": ("previous", BOOL),
             "--previous": ("previous", BOOL), "--tail": ("tail", INT), "--since": ("since", STR),
             "--timestamps": ("timestamps", BOOL), "-f": ("follow", BOOL), "--follow": ("follow", BOOL),
             "--all-containers": ("all_containers", BOOL)},
    "top": {"--containers": ("containers", BOOL), "--sort-by": ("sort_by", STR), **_SEL,
            "--no-headers": ("no_headers", BOOL)},
    "events": {"--for": ("for", STR), "--types": ("types", STR)},
    "rollout": {"--to-revision": ("to_revision", INT), "--revision": ("revision", INT),
                "--timeout": ("timeout", STR), "-w": ("watch", BOOL), "--watch": ("watch", BOOL)},
    "scale": {"--replicas": ("replicas", INT), "--current-replicas": ("current_replicas", INT), **_SEL,
              "--timeout": ("timeout", STR)},
    "patch": {"-p": ("patch", STR), "--patch": ("patch", STR), "--type": ("type", STR),
              "--patch-file": ("patch_file", STR)},
    "set": {"-c": ("container", STR), "--containers": ("container", STR), "--limits": ("limits", STR),
            "--requests": ("requests", STR), **_SEL},
    "delete": {"--grace-period": ("grace_period", INT), "--force": ("force", BOOL),
               "--wait": ("wait", BOOL), "--now": ("now", BOOL), "--cascade": ("cascade", STR),
               "--ignore-not-found": ("ignore_not_found", BOOL), **_SEL,
               "--field-selector": ("field_selector", STR)},
    "cordon": {**_SEL}, "uncordon": {**_SEL},
    "label": {"--overwrite": ("overwrite", BOOL), **_SEL},
    "annotate": {"--overwrite": ("overwrite", BOOL), **_SEL},
}
FIELD_SELECTOR = re.compile(r"^[A-Za-z][A-Za-z0-9.]*(=|==|!=)[A-Za-z0-9._:-]*$")
SORT_BY = re.compile(r"^(\{)?\.?[A-Za-z][A-Za-z0-9_.]*(\[[0-9]\])?[A-Za-z0-9_.]*(\})?$|^(cpu|memory)$")
RESOURCE_KEYS = {"cpu", "memory", "ephemeral-storage"}
# Patch keys that would change what code runs or with which privileges (RCE through a patch).
DANGEROUS_PATCH_KEYS = {
    "command", "args", "image", "env", "envFrom", "volumes", "volumeMounts", "securityContext",
    "privileged", "hostNetwork", "hostPID", "hostIPC", "hostPath", "serviceAccountName",
    "serviceAccount", "automountServiceAccountToken", "initContainers", "ephemeralContainers",
    "lifecycle", "nodeName", "ownerReferences", "finalizers", "$patch", "$retainKeys",
    "$deleteFromPrimitiveList", "$setElementOrder", "capabilities", "workingDir", "shareProcessNamespace",
    "hostUsers", "hostAliases", "runtimeClassName", "sysctls", "procMount", "allowPrivilegeEscalation",
    "runAsUser", "runAsGroup", "runAsNonRoot", "seccompProfile", "appArmorProfile", "seLinuxOptions",
}
# Patch keys that move pods (onto control-plane or tainted nodes) or redirect their name lookups:
# legitimate in some runbooks, so never refused outright, but never low risk either.
HIGH_RISK_PATCH_KEYS = {
    "tolerations", "nodeSelector", "affinity", "nodeAffinity", "podAffinity", "podAntiAffinity",
    "topologySpreadConstraints", "schedulerName", "priorityClassName", "priority", "dnsConfig", "dnsPolicy",
}
# Fields that set a replica count: bounded by the policy's max_replicas wherever they appear.
REPLICA_KEYS = {"replicas", "minReplicas", "maxReplicas"}
# Labels and annotations that loosen a namespace's Pod Security admission level.
POD_SECURITY_PREFIX = "pod-security.kubernetes.io/"
