"""Password hashing with Argon2id (argon2-cffi); cost parameters are configurable for tests."""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

T = TypeVar("T")
# Hash threads run at a lower CPU priority (Linux nice is per thread, and argon2's lane threads inherit it): when
# the cores are busy a login waits a little longer, and the kiosks' ticket issues and the clerks' calls do not.
HASH_NICENESS = 10


def _lower_priority() -> None:
    # Not Linux, or not permitted: the bounded concurrency still holds.
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASH_NICENESS)


def hash_slots(cores: int | None = None) -> int:
    """How many argon2 computations may run at once: half the cores (at least one).

    Each hash takes 64 MiB and 4 lanes for about a quarter of a second; eight clerks logging in together at
    08:30 would otherwise fill every core and hold the kiosks' ticket issues for most of a second.
    """
    if cores is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cores // 2)


class Passwords:
    """Hash and verify staff passwords, at most ``slots`` at a time."""

    def __init__(self, *, fast: bool = False, slots: int | None = None) -> None:
        # The fast profile exists only so test suites do not spend seconds hashing "demo". The default profile
        # is argon2-cffi's RFC 9106 low-memory one (t=3, m=64 MiB, p=4), above OWASP's minimum.
        self._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1) if fast else PasswordHasher()
        self.slots = slots or hash_slots()
        self._gate = threading.BoundedSemaphore(self.slots)
        # Test profile: hashes take microseconds, so they run in the caller's thread (test suites build many apps).
        self._pool = (
            None if fast else ThreadPoolExecutor(self.slots, thread_name_prefix="argon2", initializer=_lower_priority)
        )
        # Verified instead when the account does not exist, so a login takes as long either way.
        self._dummy = self._hasher.hash(secrets.token_hex(16))

    def _run(self, work: Callable[[], T]) -> T:
        # The semaphore bounds the hashes of the whole process; the caller's thread waits (its GIL released).
        with self._gate:
            return work() if self._pool is None else self._pool.submit(work).result()

    def hash(self, password: str) -> str:
        """An Argon2id hash string."""
        return self._run(lambda: self._hasher.hash(password))

    def verify(self, stored: str | None, password: str) -> bool:
        """True if ``password`` matches the stored hash; with no hash (unknown account) it costs the same, False."""

        def check() -> bool:
            try:
                return self._hasher.verify(stored or self._dummy, password) and stored is not None
            except (VerificationError, InvalidHashError):
                return False

        return self._run(check)

    def needs_rehash(self, stored: str) -> bool:
        """True when the hash was made with weaker parameters than the current ones."""
        try:
            return self._hasher.check_needs_rehash(stored)
        except InvalidHashError:
            return True
