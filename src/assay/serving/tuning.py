"""How a serving process runs: its C allocator keeps freed memory for reuse, and its
threads take turns with the GIL more often than Python's default."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import sys

__all__ = ["freeze_loaded", "keep_freed_memory", "tune_process"]

# The event loop of a busy server holds the GIL nearly all the time; the prediction log's
# writer gives it up around each statement and then waits for the loop to let go, which
# Python asks of the loop only after the switch interval (5 ms by default): the writer fell
# thousands of records behind (held in memory) at a thousand requests a second.
SWITCH_INTERVAL_S = 0.001
GC_YOUNG = 20_000

# glibc's mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# A batch's arrays, freed when it is scored, are allocated again by the next batch. Below
# these sizes glibc keeps them in its heap instead of handing them back to the system and
# faulting fresh pages in each time (which took more than half of the compiled model's
# time on a 128-row batch). Memory is still handed back explicitly where a model is decoded.
_MMAP_ABOVE = 32 * 1024 * 1024  # the largest glibc takes
_TRIM_ABOVE = 128 * 1024 * 1024


def keep_freed_memory() -> bool:
    """Tell glibc's allocator to keep freed memory for reuse (in this process, for the rest
    of its life); False where the C library is not glibc, and nothing changes."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6")
        return bool(
            libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_ABOVE)
            and libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_ABOVE)
        )
    return False


def tune_process() -> None:
    """Tune this process for serving (for the rest of its life): see ``keep_freed_memory``
    and ``SWITCH_INTERVAL_S``."""
    keep_freed_memory()
    sys.setswitchinterval(SWITCH_INTERVAL_S)


def freeze_loaded() -> None:
    """Leave what is in memory now (the modules and the loaded models) out of every later
    garbage collection: a full collection walked them all, hundreds of thousands of objects,
    and held every request in flight for tens of milliseconds each time (the server's p99).
    Called once the models are loaded, before the first request."""
    gc.collect()
    gc.freeze()
    # A request allocates a few hundred objects, nearly all freed with it by reference
    # counting: a youngest-generation pass every 700 allocations (the default) found little.
    gc.set_threshold(GC_YOUNG, 20, 20)
