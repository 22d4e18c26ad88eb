"""glibc memory knobs that keep the serving process's resident size down; no-ops elsewhere."""

from __future__ import annotations

import ctypes

_M_ARENA_MAX = -8


def _libc():
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc
        return None


def limit_malloc_arenas(arenas: int = 2) -> None:
    """glibc gives each thread its own malloc arena (up to 8 per core); worker threads then keep
    freed memory apart and the resident size creeps up. Two arenas are plenty here."""
    libc = _libc()
    if libc is not None and hasattr(libc, "mallopt"):
        libc.mallopt(_M_ARENA_MAX, arenas)


def release_free_memory() -> None:
    """Hand memory freed after a big rebuild back to the OS (glibc keeps it otherwise)."""
    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)
