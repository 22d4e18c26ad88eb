"""How much disk the library, the index, the data dir and the backups take."""

from __future__ import annotations

import os
import time
from pathlib import Path

from ..api.ops import DirUsage, DiskSpace, StorageUsage


def dir_usage(path: Path) -> DirUsage:
    files = size = 0
    if path.is_dir():
        for dirpath, _dirs, names in os.walk(path):
            for name in names:
                try:
                    size += os.lstat(os.path.join(dirpath, name)).st_size
                    files += 1
                except OSError:
                    continue  # a file removed while we walk is not an error
    return DirUsage(path=str(path), exists=path.is_dir(), files=files, bytes=size)


def disk_space(path: Path) -> DiskSpace | None:
    try:
        st = os.statvfs(path)
    except OSError:
        return None
    return DiskSpace(total_bytes=st.f_blocks * st.f_frsize, free_bytes=st.f_bavail * st.f_frsize)


def measure_storage(library_dir: Path, data_dir: Path, backups_dir: Path) -> StorageUsage:
    started = time.perf_counter()
    data = Path(data_dir)
    index = next((data / n for n in ("index", "chroma") if (data / n).exists()), data / "index")
    dirs = {"library": Path(library_dir), "index": index, "data": data, "backups": Path(backups_dir)}
    usage = {name: dir_usage(path) for name, path in dirs.items()}
    return StorageUsage(storage=usage, disk=disk_space(data), scan_time=f"{time.perf_counter() - started:.3f}s")
