"""Operations: backups and storage usage."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from .base import Request


class BackupRequest(Request):
    kind: Literal["daily", "weekly", "monthly"] = "daily"


class DirUsage(BaseModel):
    path: str
    exists: bool
    files: int
    bytes: int


class DiskSpace(BaseModel):
    total_bytes: int
    free_bytes: int


class StorageUsage(BaseModel):
    storage: dict[str, DirUsage] = Field(description="library, index, data and backups.")
    disk: DiskSpace | None = Field(None, description="The file system of the data dir.")
    scan_time: str


class Backup(BaseModel):
    name: str
    kind: str
    bytes: int
    files: int | None = None
    created: str | None = None
    removed_by_retention: list[str] | None = None


class BackupList(BaseModel):
    backups: list[Backup]
    count: int
