"""The runbook library on disk: the source of truth for everything else."""
