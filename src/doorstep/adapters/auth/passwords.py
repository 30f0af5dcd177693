"""Password hashing with Argon2id, with a bound on how many hashes run at once.

Each Argon2 hash holds ``memory_kib`` of memory while it runs. Sign-in runs in the web
server's thread pool (forty threads), so without a bound a burst of forty anonymous attempts
holds forty hashes' memory at once. Here hashes run on a pool of ``concurrency`` threads of
their own, at most ``queue`` callers wait for a turn, and anyone beyond that is told to retry
(503 with Retry-After) instead of tying up another thread.

The pool matters as much as the count: glibc keeps a freed 19 MiB block in the arena of the
thread that used it, so hashing on forty different request threads would leave forty blocks
resident after the burst, even with only two running at a time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from pwdlib import PasswordHash
from pwdlib.exceptions import PwdlibError
from pwdlib.hashers.argon2 import Argon2Hasher

from doorstep.domain.errors import Unavailable

T = TypeVar("T")

# One pool per size for the whole process: memory is the process's, and apps built one after
# another (tests, the CLI) then reuse two threads instead of each leaving its own behind.
_pools: dict[int, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def _pool(size: int) -> ThreadPoolExecutor:
    with _pools_lock:
        if size not in _pools:
            _pools[size] = ThreadPoolExecutor(size, thread_name_prefix=f"argon2-{size}")
        return _pools[size]


class Argon2Passwords:
    """Hashes and verifies passwords (the ``Passwords`` port)."""

    def __init__(
        self,
        *,
        memory_kib: int = 19_456,
        time_cost: int = 2,
        concurrency: int = 2,
        queue: int = 8,
    ) -> None:
        if concurrency < 1 or queue < 0:
            raise ValueError("concurrency must be at least 1 and queue not negative")
        # One lane: parallelism would multiply the threads per hash, and the bound above
        # already decides how much of the machine sign-ins get.
        self._hasher = PasswordHash(
            (Argon2Hasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1),)
        )
        self._pool = _pool(concurrency)
        self._admitted = threading.BoundedSemaphore(concurrency + queue)

    def hash(self, plain: str) -> str:
        """Hash ``plain`` with a fresh salt; the result embeds algorithm and parameters."""
        return self._bounded(lambda: self._hasher.hash(plain))

    def verify(self, plain: str, hashed: str) -> bool:
        """Whether ``plain`` matches ``hashed``.

        A stored hash that is empty, corrupt or from an unknown scheme counts as a mismatch
        rather than an error, so a damaged user row locks that user out instead of failing
        the whole sign-in endpoint.
        """

        def check() -> bool:
            try:
                return self._hasher.verify(plain, hashed)
            except (PwdlibError, ValueError, TypeError):
                return False

        return self._bounded(check)

    def needs_rehash(self, hashed: str) -> bool:
        """Made with other parameters (e.g. the 64 MiB default used before): hash again."""
        try:
            return self._hasher.current_hasher.check_needs_rehash(hashed)
        except (PwdlibError, ValueError, TypeError):
            return True

    def _bounded(self, work: Callable[[], T]) -> T:
        if not self._admitted.acquire(blocking=False):
            raise Unavailable(
                "sign_in_busy",
                "Too many sign-ins at once. Please retry in a moment.",
                "同时登录的人数过多，请稍后重试。",
                retry_after_s=1,
            )
        try:
            return self._pool.submit(work).result()
        finally:
            self._admitted.release()
