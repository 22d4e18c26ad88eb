"""HTTP-only settings. Same env prefix as the core Settings, kept here so the core stays small."""

from __future__ import annotations

import ipaddress
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1", "[::1]")


class HttpSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FAULTMAVEN_RUNBOOKS_", env_file=".env", extra="ignore")

    max_body_bytes: int = Field(1_000_000, ge=1024, description="Largest request body accepted (413 beyond).")
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Extra Host header values to accept (e.g. 'runbooks.internal:8080' or 'runbooks.internal:*'). "
        "Loopback names are always accepted.",
    )
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Extra browser Origins to accept, e.g. 'https://n8n.internal'."
    )
    webhook_dry_run: bool = Field(
        False, description="Start a dry-run execution of the best runbook for each firing alert."
    )
    webhook_min_score: float = Field(0.5, ge=0, le=1, description="Confidence needed before a webhook dry-runs.")
    webhook_suggestions: int = Field(3, ge=1, le=10)
    max_alerts_per_webhook: int = Field(200, ge=1)
    max_connections: int = Field(512, ge=8, description="Concurrent connections before new ones get a 503.")
    mcp_stateless: bool = Field(
        False, description="Streamable HTTP without sessions, so replicas behind a plain load balancer need no "
        "sticky sessions (server-to-client notifications are then unavailable).",
    )
    access_log: bool = Field(False, description="Log every request (the /metrics counters cover volume).")

    @field_validator("allowed_hosts", "allowed_origins", mode="before")
    @classmethod
    def _comma_list(cls, value):
        # From the environment: "a.example:*,b.example:8080" (or a JSON list).
        if isinstance(value, str):
            value = value.strip()
            if value.startswith("["):
                import json

                return json.loads(value)
            return [v.strip() for v in value.split(",") if v.strip()]
        return value


def is_loopback(host: str) -> bool:
    """True for names and addresses that only this machine can reach."""
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
