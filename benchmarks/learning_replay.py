"""Replay generated incidents with known underlying patterns through `learn`.

Prints pattern precision / recall (pairwise over incidents: "grouped together" vs "truly the same
pattern"), how many patterns were found, and the calibration of the reported confidence (for
incidents matched to an existing pattern: is that pattern's majority cause the incident's cause?).

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/learning_replay.py [--n 300] [--embedder real|hash]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from itertools import combinations
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from faultmaven_runbooks.learning import LearningService  # noqa: E402
from faultmaven_runbooks.service import RunbookService  # noqa: E402
from faultmaven_runbooks.settings import (
    LearningSettings,  # noqa: E402
    Settings,  # noqa: E402
)

# Underlying causes. Types overlap on purpose (pod_crash appears under several causes), and two
# pairs are near neighbours (container OOM vs node memory pressure; node disk vs PVC full).
PATTERNS = {
    "container-oom": dict(
        types=["pod_crash", "oom_killed", "container_restart", "memory_pressure"],
        symptoms=["OOMKilled events", "exit code 137", "memory usage > 90% of limit", "pod restart count > 5"],
        diagnosis=["memory_limit_exceeded", "container exceeded its memory limit", "heap grew beyond the cgroup limit"],
        fixes={"increase_memory_limit": 0.9, "restart_pod": 0.3, "fix_memory_leak": 0.8},
        pods=["web-app", "api"]),
    "node-memory-pressure": dict(
        types=["node_memory_pressure", "pod_eviction", "evicted_pods"],
        symptoms=["node condition MemoryPressure=True", "pods evicted from node", "kubelet eviction threshold reached"],
        diagnosis=["node ran out of allocatable memory", "too many pods scheduled on node without requests",
                   "node memory overcommitted"],
        fixes={"cordon_and_drain_node": 0.8, "set_memory_requests": 0.85, "add_nodes": 0.9},
        pods=["batch", "worker"]),
    "crashloop-config": dict(
        types=["pod_crash", "crash_loop_backoff", "deployment_failure"],
        symptoms=["CrashLoopBackOff", "container exits with code 1 at startup", "missing environment variable in logs"],
        diagnosis=["bad configuration in configmap", "missing required environment variable",
                   "invalid config file after deploy"],
        fixes={"fix_configmap": 0.9, "rollback_deployment": 0.95, "restart_pod": 0.1},
        pods=["web-app", "api"]),
    "image-pull": dict(
        types=["image_pull_backoff", "err_image_pull", "pod_pending"],
        symptoms=["ImagePullBackOff", "ErrImagePull", "manifest unknown", "pull access denied"],
        diagnosis=["image tag does not exist in registry", "registry credentials expired",
                   "wrong image name in deployment"],
        fixes={"fix_image_tag": 0.9, "rotate_registry_secret": 0.85},
        pods=["web-app", "worker"]),
    "node-disk": dict(
        types=["node_disk_pressure", "disk_full", "eviction_disk"],
        symptoms=["node condition DiskPressure=True", "no space left on device on node", "imagefs usage above 85%"],
        diagnosis=["container logs filled node disk", "unused images filled node disk", "node root filesystem full"],
        fixes={"prune_images": 0.8, "rotate_logs": 0.85, "expand_node_disk": 0.9},
        pods=["worker", "batch"]),
    "pvc-full": dict(
        types=["disk_full", "database_write_failure", "volume_full"],
        symptoms=["no space left on device in database pod", "PVC usage 100%", "writes failing with ENOSPC"],
        diagnosis=["persistent volume claim is full", "database volume ran out of space",
                   "WAL files filled the volume"],
        fixes={"expand_pvc": 0.9, "clean_old_wal_files": 0.7},
        pods=["postgres", "database"]),
    "cert-expired": dict(
        types=["tls_error", "certificate_expired", "ingress_failure"],
        symptoms=["x509: certificate has expired", "TLS handshake failure", "clients get SSL errors"],
        diagnosis=["TLS certificate expired", "cert-manager failed to renew certificate", "certificate renewal stuck"],
        fixes={"renew_certificate": 0.95, "restart_cert_manager": 0.6},
        pods=["ingress"]),
    "dns": dict(
        types=["dns_failure", "service_unreachable", "timeout"],
        symptoms=["NXDOMAIN for cluster services", "i/o timeout resolving names", "coredns errors in logs"],
        diagnosis=["coredns pods overloaded", "coredns configmap broken", "ndots causing too many lookups"],
        fixes={"scale_coredns": 0.85, "fix_coredns_config": 0.9},
        pods=["api", "web-app"]),
    "db-connections": dict(
        types=["database_errors", "too_many_connections", "api_500_errors"],
        symptoms=["FATAL: too many clients already", "connection pool exhausted", "HTTP 500 from API"],
        diagnosis=["connection pool size times replicas exceeds max_connections", "connection leak in application",
                   "max_connections too low after scale out"],
        fixes={"reduce_pool_size": 0.8, "add_pgbouncer": 0.9, "restart_pod": 0.4},
        pods=["api", "postgres"]),
    "cpu-throttling": dict(
        types=["high_latency", "cpu_throttling", "slow_responses"],
        symptoms=["p99 latency above SLO", "CPU throttling above 50%", "container_cpu_cfs_throttled_periods high"],
        diagnosis=["CPU limit too low for load", "cpu limit causes CFS throttling", "traffic spike exceeded CPU limit"],
        fixes={"raise_cpu_limit": 0.85, "scale_horizontally": 0.9},
        pods=["api", "web-app"]),
    "hpa-maxed": dict(
        types=["hpa_max_replicas", "scaling_failure", "high_latency"],
        symptoms=["HPA at maxReplicas", "desired replicas above max", "queue backlog growing"],
        diagnosis=["autoscaler reached its maximum replicas", "maxReplicas too low for traffic",
                   "HPA capped by max replicas"],
        fixes={"raise_max_replicas": 0.9, "add_nodes": 0.6},
        pods=["worker", "api"]),
    "kafka-lag": dict(
        types=["consumer_lag", "kafka_lag", "queue_backlog"],
        symptoms=["consumer group lag growing", "messages processed late", "partition lag above 10000"],
        diagnosis=["too few consumers for partitions", "slow consumer processing", "consumer rebalancing loop"],
        fixes={"scale_consumers": 0.85, "fix_rebalance_timeout": 0.7},
        pods=["worker"]),
}


def generate(n: int, seed: int) -> list[tuple[str, dict, dict]]:
    rng = random.Random(seed)
    names = list(PATTERNS)
    weights = [rng.uniform(0.5, 2.0) for _ in names]
    out = []
    for i in range(n):
        label = rng.choices(names, weights)[0]
        p = PATTERNS[label]
        fix = rng.choice(list(p["fixes"]))
        success = rng.random() < p["fixes"][fix]
        incident = {"id": f"INC-{i:04d}", "type": rng.choice(p["types"]),
                    "symptoms": rng.sample(p["symptoms"], rng.randint(1, 2)),
                    "diagnosis": [rng.choice(p["diagnosis"])], "resolution": [fix], "success": success,
                    "duration": f"{rng.randint(2, 45)}m"}
        out.append((label, incident, {"namespace": "production", "pod_type": rng.choice(p["pods"])}))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--embedder", choices=["real", "hash"], default="real")
    ap.add_argument("--threshold", type=float, default=None, help="override pattern_threshold")
    ap.add_argument("--write-runbooks", action="store_true", help="also write and index dynamic runbooks")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="learning-replay-"))
    (tmp / "library").mkdir()
    model = "hash:256" if args.embedder == "hash" else Settings.model_fields["embedding_model"].default
    settings = Settings(library_dir=tmp / "library", data_dir=tmp / "data", embedding_model=model, _env_file=None)
    service = RunbookService(settings)
    features = LearningSettings(**({"pattern_threshold": args.threshold} if args.threshold else {}))
    incidents = generate(args.n, args.seed)
    # Embed every incident text in one batch up front (the model is the slow part on small CPUs);
    # learn() then asks the same embedder through this cache, so results are unchanged.
    from faultmaven_runbooks.learning.patterns import incident_text
    from faultmaven_runbooks.learning.validate import check_incident
    texts = sorted({incident_text(check_incident(inc)) for _, inc, _ in incidents})
    t0 = time.perf_counter()
    cache = dict(zip(texts, service.embed(texts), strict=True))
    embed_seconds = time.perf_counter() - t0

    def cached_embed(batch):
        return [cache[t] if t in cache else service.embed([t])[0] for t in batch]

    learning = LearningService(service.store, service.writer, service.library, cached_embed, service.clock, features)

    members: dict[str, list[str]] = defaultdict(list)  # predicted pattern -> true labels so far
    assigned: list[tuple[str, str]] = []
    calib: list[tuple[float, bool]] = []
    created = 0
    started = time.perf_counter()
    for label, incident, context in incidents:
        r = learning.learn(incident, context, write_runbooks=args.write_runbooks)
        if r.pattern_detected:
            majority = Counter(members[r.pattern_id]).most_common(1)[0][0]
            calib.append((r.confidence, majority == label))
        created += r.new_runbook_created
        members[r.pattern_id].append(label)
        assigned.append((label, r.pattern_id))
    elapsed = time.perf_counter() - started

    tp = fp = fn = 0
    for (la, pa), (lb, pb) in combinations(assigned, 2):
        same_true, same_pred = la == lb, pa == pb
        tp += same_true and same_pred
        fp += same_pred and not same_true
        fn += same_true and not same_pred
    precision, recall = tp / max(1, tp + fp), tp / max(1, tp + fn)
    purity = sum(Counter(v).most_common(1)[0][1] for v in members.values()) / len(assigned)
    print(f"embedder={args.embedder} incidents={len(assigned)} true_patterns={len({label for label, _ in assigned})} "
          f"found_patterns={len(members)} threshold={features.pattern_threshold} "
          f"embedding={embed_seconds:.1f}s learn={elapsed:.1f}s ({1000 * elapsed / len(assigned):.1f} ms/learn "
          "excluding the model)")
    print(f"pairwise precision={precision:.3f} recall={recall:.3f} "
          f"F1={2 * precision * recall / max(1e-9, precision + recall):.3f} purity={purity:.3f}")
    if args.write_runbooks:
        print(f"dynamic runbooks created: {created}")
    print("\nconfidence calibration (incidents matched to an existing pattern):")
    print(f"{'confidence':>12} {'n':>5} {'mean conf':>10} {'accuracy':>9}")
    bins = [(0.0, 0.2), (0.2, 0.4), (0.4, 0.6), (0.6, 0.8), (0.8, 1.01)]
    ece = 0.0
    for lo, hi in bins:
        rows = [(c, ok) for c, ok in calib if lo <= c < hi]
        if not rows:
            continue
        conf = sum(c for c, _ in rows) / len(rows)
        acc = sum(ok for _, ok in rows) / len(rows)
        ece += len(rows) / len(calib) * abs(conf - acc)
        print(f"{lo:5.1f}-{min(hi, 1.0):<5.1f} {len(rows):>5} {conf:>10.3f} {acc:>9.3f}")
    print(f"expected calibration error (ECE) = {ece:.3f} over {len(calib)} matched incidents")


if __name__ == "__main__":
    main()
