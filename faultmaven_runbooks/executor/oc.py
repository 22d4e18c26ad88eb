"""`oc` is kubectl plus OpenShift verbs: map what has a typed operation, say why the rest is manual.

`oc get/describe/logs/patch/delete/scale/rollout/label/annotate/set/events` are kubectl's own
verbs; `oc adm top|cordon|uncordon|drain` are kubectl's `top|cordon|uncordon|drain`;
`oc project NAME` switches the namespace for the later steps (a set-up line). OpenShift kinds
(routes, deploymentconfigs, clusteroperators, machineconfigpools ...) are resources like any
other and go through API discovery.
"""

from __future__ import annotations

from .operation import Manual, Refused
from .vocabulary import GLOBAL_FLAGS

_ADM_AS_KUBECTL = {"top", "cordon", "uncordon", "drain", "taint"}
# oc verbs that a human runs, and why
MANUAL_OC = {
    "rsh": "opens a shell inside a container (remote code execution)",
    "rsync": "copies files in or out of a container",
    "debug": "starts a debug pod with host or pod access (privileged by default on nodes)",
    "new-app": "creates applications from images or source", "new-build": "creates builds",
    "new-project": "creates a project", "start-build": "starts a build (runs build code)",
    "cancel-build": "cancels builds", "import-image": "imports images", "tag": "retags images",
    "process": "renders templates", "expose": "creates a route or service", "create": "creates arbitrary objects",
    "apply": "applies arbitrary manifests", "replace": "replaces whole objects", "edit": "opens an editor",
    "extract": "writes ConfigMap or Secret contents to local files", "observe": "runs a script on every change",
    "image": "copies and mirrors images", "registry": "logs in to the image registry",
    "status": "summarises a project across many kinds", "explain": "prints API documentation",
    "api-resources": "lists API types", "version": "prints versions", "whoami": "prints the current identity",
    "idle": "scales services to zero", "cluster-info": "dumps cluster data", "policy": "changes RBAC",
}
MANUAL_ADM = {
    "must-gather": "runs a collection image with cluster-admin rights and writes the result to local files",
    "inspect": "writes resource dumps to local files",
    "node-logs": "reads a node's journal through the node proxy",
    "upgrade": "starts or changes a cluster upgrade", "policy": "changes RBAC", "certificate": "approves certificates",
    "release": "inspects and mirrors release images", "catalog": "builds catalog images",
    "prune": "deletes objects in bulk", "groups": "changes groups", "ocp-certificates": "rotates certificates",
    "new-project": "creates a project", "pod-network": "changes pod networking", "manage-node": "changes nodes",
    "wait-for-stable-cluster": "blocks until the cluster settles",
}


def _verb_index(tokens: list[str]) -> int:
    i = 0
    while i < len(tokens) and tokens[i].startswith("-"):
        name = tokens[i].split("=", 1)[0]
        takes_value = name in GLOBAL_FLAGS and "=" not in tokens[i] and name != "--dry-run"
        i += 2 if takes_value else 1
    return i


def to_kubectl(tokens: list[str]) -> list[str] | tuple[str, str]:
    """oc arguments -> kubectl arguments; or ("project", NAME) for `oc project NAME`."""
    i = _verb_index(tokens)
    if i >= len(tokens):
        raise Manual("names no oc command")
    verb = tokens[i]
    if verb in ("login", "logout"):
        raise Refused(f"oc {verb} changes the credentials this client uses; the cluster comes from the server's "
                      "settings only (credential/target redirection)")
    if verb == "project":
        rest = [t for t in tokens[i + 1:] if not t.startswith("-")]
        if len(rest) != 1:
            raise Manual("oc project without a project name only prints the current project")
        return ("project", rest[0])
    if verb == "projects":
        return tokens[:i] + ["get", "namespaces"] + tokens[i + 1:]
    if verb in MANUAL_OC:
        raise Manual(f"oc {verb} {MANUAL_OC[verb]}; the executor does not run it, a human may")
    if verb == "adm":
        sub = tokens[i + 1] if i + 1 < len(tokens) else ""
        if sub in _ADM_AS_KUBECTL:
            return tokens[:i] + tokens[i + 1:]
        why = MANUAL_ADM.get(sub) or "is not an operation the executor runs"
        raise Manual(f"oc adm {sub[:30]} {why}; the executor does not run it, a human may")
    if verb == "rollout" and i + 1 < len(tokens) and tokens[i + 1] in ("latest", "retry", "cancel"):
        raise Manual(f"oc rollout {tokens[i + 1]} starts or stops a DeploymentConfig rollout; a human runs it")
    return tokens
