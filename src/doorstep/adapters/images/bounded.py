"""Photos are decoded by a few threads of their own, at a lower CPU priority.

Decoding a 40-megapixel photo takes about a second of CPU and ~120 MB for its pixels (more
while it is scaled). Page handlers run in the server's thread pool (40 threads), so without a
bound forty uploads would decode at once: gigabytes of memory, and every other request waiting
for a core. Here at most ``workers`` photos are decoded at once per process; further callers
wait for their turn. The decoding threads run niced (Linux: ``setpriority`` on the thread id),
so on a busy machine the threads that answer other requests get the cores first and an upload
takes longer instead of everything else.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

from doorstep.adapters.images.sanitize import SanitizedImage, sanitize_image

NICENESS = 10
"""How much lower than the serving threads (0 = same); 10 leaves them ~90 % of a shared core."""


def _lower_priority() -> None:
    try:
        me = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, me, min(19, os.getpriority(os.PRIO_PROCESS, me) + NICENESS))
    except (AttributeError, OSError):
        # No per-thread priority on this platform: the bound on workers still holds.
        pass


class BoundedSanitizer:
    """``sanitize_image`` run on a pool of ``workers`` low-priority threads."""

    def __init__(self, workers: int, *, max_bytes: int) -> None:
        if workers < 1:
            raise ValueError("at least one image worker")
        self.workers = workers
        self._max_bytes = max_bytes
        self._pool = ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="doorstep-image", initializer=_lower_priority
        )

    def __call__(self, data: bytes) -> SanitizedImage:
        """Validate and re-encode ``data`` once a worker is free (see ``sanitize_image``)."""
        return self._pool.submit(sanitize_image, data, max_bytes=self._max_bytes).result()
