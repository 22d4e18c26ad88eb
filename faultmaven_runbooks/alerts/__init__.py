"""Alerts in (Alertmanager, n8n): which runbook fits each, and a dry run of it when enabled."""
