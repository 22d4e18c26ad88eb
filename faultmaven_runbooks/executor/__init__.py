"""Sandboxed Kubernetes executor: typed operations, dry-run, approvals, audit."""
