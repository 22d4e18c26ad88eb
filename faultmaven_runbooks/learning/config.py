"""Tunables of the learning, authoring, analytics and backup features (env FAULTMAVEN_RUNBOOKS_*)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class FeatureSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FAULTMAVEN_RUNBOOKS_", env_file=".env", extra="ignore")

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


def feature_settings() -> FeatureSettings:
    return FeatureSettings()
