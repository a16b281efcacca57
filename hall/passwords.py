"""Password hashing with Argon2id (argon2-cffi); cost parameters are configurable for tests."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


class Passwords:
    """Hash and verify staff passwords."""

    def __init__(self, *, fast: bool = False) -> None:
        # The fast profile exists only so test suites do not spend seconds hashing "demo".
        self._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1) if fast else PasswordHasher()

    def hash(self, password: str) -> str:
        """An Argon2id hash string."""
        return self._hasher.hash(password)

    def verify(self, stored: str, password: str) -> bool:
        """True if ``password`` matches the stored hash."""
        try:
            return self._hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        """True when the hash was made with weaker parameters than the current ones."""
        try:
            return self._hasher.check_needs_rehash(stored)
        except InvalidHashError:
            return True
