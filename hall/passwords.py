"""Password hashing with Argon2id (argon2-cffi); cost parameters are configurable for tests."""

from __future__ import annotations

import os
import secrets
import threading

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


def hash_slots(cores: int | None = None) -> int:
    """How many argon2 computations may run at once: half the cores (at least one).

    Each hash takes 64 MiB and 4 lanes for about a quarter of a second; eight clerks logging in together at
    08:30 would otherwise fill every core and hold the kiosks' ticket issues for most of a second.
    """
    return max(1, (cores or os.cpu_count() or 1) // 2)


class Passwords:
    """Hash and verify staff passwords, at most ``slots`` at a time."""

    def __init__(self, *, fast: bool = False, slots: int | None = None) -> None:
        # The fast profile exists only so test suites do not spend seconds hashing "demo". The default profile
        # is argon2-cffi's RFC 9106 low-memory one (t=3, m=64 MiB, p=4), above OWASP's minimum.
        self._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1) if fast else PasswordHasher()
        self.slots = slots or hash_slots()
        self._gate = threading.BoundedSemaphore(self.slots)
        # Verified instead when the account does not exist, so a login takes as long either way.
        self._dummy = self._hasher.hash(secrets.token_hex(16))

    def hash(self, password: str) -> str:
        """An Argon2id hash string."""
        with self._gate:
            return self._hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        """True if ``password`` matches the stored hash; with no hash (unknown account) it costs the same, False."""
        with self._gate:
            try:
                return self._hasher.verify(stored or self._dummy, password) and stored is not None
            except (VerificationError, InvalidHashError):
                return False

    def needs_rehash(self, stored: str) -> bool:
        """True when the hash was made with weaker parameters than the current ones."""
        try:
            return self._hasher.check_needs_rehash(stored)
        except InvalidHashError:
            return True
