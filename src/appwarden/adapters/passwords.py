"""Password hashing with argon2id (argon2-cffi), behind the PasswordHasher port."""

from __future__ import annotations

from argon2 import PasswordHasher as _Argon2
from argon2.exceptions import InvalidHashError, VerificationError


class Argon2Hasher:
    """argon2id with the library's defaults (RFC 9106 low-memory profile)."""

    def __init__(self) -> None:
        self._impl = _Argon2()

    def hash(self, password: str) -> str:
        return self._impl.hash(password)

    def verify(self, stored: str, password: str) -> bool:
        try:
            return self._impl.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        try:
            return self._impl.check_needs_rehash(stored)
        except InvalidHashError:
            return True
