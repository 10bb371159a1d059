"""Keep pool processes' memory flat across sweeps (glibc malloc; a no-op elsewhere).

A batch allocates and frees many mid-sized buffers (ZIP bytes, file texts, parse trees, reports)
from several threads (downloads, analyzers). glibc gives each thread its own arena and keeps
freed pages, so resident memory creeps up from sweep to sweep although nothing leaks. Two
arenas per process and a trim after every task return that memory to the system.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from typing import Any

log = logging.getLogger("skillscan.worker")

M_ARENA_MAX = -8  # mallopt parameter (malloc.h)
ARENAS = 2


def _libc() -> Any | None:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


_LIBC = _libc()


def limit_arenas() -> None:
    if _LIBC is not None and not _LIBC.mallopt(M_ARENA_MAX, ARENAS):
        log.debug("mallopt(M_ARENA_MAX) refused")


def trim() -> None:
    if _LIBC is not None:
        _LIBC.malloc_trim(0)
