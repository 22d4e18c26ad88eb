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
BULK_FLAGS = {"--all": "--all"}
ALL_NAMESPACES_FLAGS = {"-A", "--all-namespaces"}
# Reads that may span every namespace (when the policy's cluster_wide_reads allows it).
LIST_VERBS = {"get", "describe", "top", "events"}

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
# The API group of each built-in kind (for `-o name` and the policy's api_groups), and its Kind.
BUILTIN_GROUPS = {
    "deployments": "apps", "statefulsets": "apps", "daemonsets": "apps", "replicasets": "apps", "jobs": "batch",
    "cronjobs": "batch", "horizontalpodautoscalers": "autoscaling", "ingresses": "networking.k8s.io",
    "networkpolicies": "networking.k8s.io", "roles": "rbac.authorization.k8s.io",
    "rolebindings": "rbac.authorization.k8s.io", "clusterroles": "rbac.authorization.k8s.io",
    "clusterrolebindings": "rbac.authorization.k8s.io", "storageclasses": "storage.k8s.io",
    "endpointslices": "discovery.k8s.io", "poddisruptionbudgets": "policy",
}
KIND_NAMES = {
    "endpoints": "Endpoints", "persistentvolumeclaims": "PersistentVolumeClaim", "configmaps": "ConfigMap",
    "horizontalpodautoscalers": "HorizontalPodAutoscaler", "resourcequotas": "ResourceQuota",
    "serviceaccounts": "ServiceAccount", "rolebindings": "RoleBinding", "clusterroles": "ClusterRole",
    "clusterrolebindings": "ClusterRoleBinding", "networkpolicies": "NetworkPolicy",
    "persistentvolumes": "PersistentVolume",
    "storageclasses": "StorageClass", "endpointslices": "EndpointSlice", "poddisruptionbudgets": "PodDisruptionBudget",
    "statefulsets": "StatefulSet", "daemonsets": "DaemonSet", "replicasets": "ReplicaSet", "cronjobs": "CronJob",
    "ingresses": "Ingress",
}


def kind_name(plural: str) -> str:
    return KIND_NAMES.get(plural) or plural[:-1].capitalize()


# Kinds served by API groups the typed client does not model (operators' custom resources,
# OpenShift, storage and admission APIs): word -> (plural, group, namespaced). Only a hint for
# planning; at run time API discovery on the cluster decides, and a word not listed here is
# resolved the same way.
_CUSTOM = [
    ("virtualmachines", "kubevirt.io", True, "vm vms virtualmachine"),
    ("virtualmachineinstances", "kubevirt.io", True, "vmi vmis virtualmachineinstance"),
    ("virtualmachineinstancemigrations", "kubevirt.io", True, "vmim vmims virtualmachineinstancemigration"),
    ("kubevirts", "kubevirt.io", True, "kv kvs kubevirt"),
    ("datavolumes", "cdi.kubevirt.io", True, "dv dvs datavolume"),
    ("dataimportcrons", "cdi.kubevirt.io", True, "dic dics dataimportcron"),
    ("datasources", "cdi.kubevirt.io", True, "das datasource"),
    ("storageprofiles", "cdi.kubevirt.io", False, "storageprofile"),
    ("cdis", "cdi.kubevirt.io", False, "cdi"), ("cdiconfigs", "cdi.kubevirt.io", False, "cdiconfig"),
    ("hyperconvergeds", "hco.kubevirt.io", True, "hco hcos hyperconverged"),
    ("networkaddonsconfigs", "networkaddonsoperator.network.kubevirt.io", False, "networkaddonsconfig"),
    ("ssps", "ssp.kubevirt.io", True, "ssp"),
    ("hostpathprovisioners", "hostpathprovisioner.kubevirt.io", False, "hostpathprovisioner"),
    ("routes", "route.openshift.io", True, "route"),
    ("deploymentconfigs", "apps.openshift.io", True, "dc deploymentconfig"),
    ("clusteroperators", "config.openshift.io", False, "co clusteroperator"),
    ("clusterversions", "config.openshift.io", False, "clusterversion"),
    ("machineconfigpools", "machineconfiguration.openshift.io", False, "mcp machineconfigpool"),
    ("machineconfigs", "machineconfiguration.openshift.io", False, "mc machineconfig"),
    ("machines", "machine.openshift.io", True, "machine"), ("machinesets", "machine.openshift.io", True, "machineset"),
    ("projects", "project.openshift.io", False, "project"),
    ("imagestreams", "image.openshift.io", True, "is imagestream"),
    ("buildconfigs", "build.openshift.io", True, "bc buildconfig"), ("builds", "build.openshift.io", True, "build"),
    ("clusterserviceversions", "operators.coreos.com", True, "csv csvs clusterserviceversion"),
    ("subscriptions", "operators.coreos.com", True, "sub subs subscription"),
    ("installplans", "operators.coreos.com", True, "ip installplan"),
    ("catalogsources", "operators.coreos.com", True, "catsrc catalogsource"),
    ("operatorgroups", "operators.coreos.com", True, "og operatorgroup"),
    ("ingresscontrollers", "operator.openshift.io", True, "ingresscontroller"),
    ("kubedeschedulers", "operator.openshift.io", True, "kubedescheduler"),
    ("leases", "coordination.k8s.io", True, "lease"),
    ("volumeattachments", "storage.k8s.io", False, "volumeattachment"),
    ("csidrivers", "storage.k8s.io", False, "csidriver"), ("csinodes", "storage.k8s.io", False, "csinode"),
    ("mutatingwebhookconfigurations", "admissionregistration.k8s.io", False, "mutatingwebhookconfiguration"),
    ("validatingwebhookconfigurations", "admissionregistration.k8s.io", False, "validatingwebhookconfiguration"),
    ("customresourcedefinitions", "apiextensions.k8s.io", False, "crd crds customresourcedefinition"),
    ("apiservices", "apiregistration.k8s.io", False, "apiservice"),
    ("priorityclasses", "scheduling.k8s.io", False, "pc priorityclass"),
    ("certificatesigningrequests", "certificates.k8s.io", False, "csr certificatesigningrequest"),
    ("servicemonitors", "monitoring.coreos.com", True, "servicemonitor"),
    ("prometheusrules", "monitoring.coreos.com", True, "prometheusrule"),
    ("prometheuses", "monitoring.coreos.com", True, "prometheus"),
    ("alertmanagers", "monitoring.coreos.com", True, "alertmanager"),
]
CUSTOM_KINDS = {plural: (group, namespaced) for plural, group, namespaced, _ in _CUSTOM}
CUSTOM_ALIAS = {word: plural for plural, _, _, words in _CUSTOM for word in [plural, *words.split()]}
# A resource word kubectl would send to API discovery: `foo`, `foos.example.com`.
RESOURCE_WORD = re.compile(r"^[a-z][a-z0-9]{0,62}(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
WORKLOADS = {"deployments", "statefulsets", "daemonsets"}
VERB_KINDS = {
    "logs": {"pods", "jobs", "deployments", "statefulsets", "daemonsets"},
    "top": {"pods", "nodes"},
    "scale": {"deployments", "statefulsets", "replicasets"},
    "patch": WORKLOADS | {"replicasets", "cronjobs", "jobs", "horizontalpodautoscalers", "persistentvolumeclaims",
              "storageclasses"},  # e.g. which class is the default: a person approves it like any change
    "set-resources": WORKLOADS | {"replicasets"},
    "cordon": {"nodes"}, "uncordon": {"nodes"},
}
# What the executor does with kinds outside the typed client (custom resources, OpenShift kinds).
CUSTOM_VERBS = {"get", "describe", "patch", "label", "annotate", "delete"}
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
            "--ignore-not-found": ("ignore_not_found", BOOL), "--chunk-size": ("chunk_size", INT),
            "-w": ("watch", BOOL), "--watch": ("watch", BOOL)},
    "describe": {**_SEL, "--show-events": ("show_events", BOOL)},
    "logs": {**_SEL, "--max-log-requests": ("max_log_requests", INT), "--prefix": ("prefix", BOOL),
             "-c": ("container", STR), "--container": ("container", STR), "-p": ("previous", BOOL),
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
    "patch": {"-o": ("output", STR), "--output": ("output", STR), "-p": ("patch", STR), "--patch": ("patch", STR),
              "--type": ("type", STR), "--patch-file": ("patch_file", STR)},
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
