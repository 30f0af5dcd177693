"""Password hashing with Argon2id (pwdlib's defaults, which follow RFC 9106)."""

from __future__ import annotations

from pwdlib import PasswordHash
from pwdlib.exceptions import PwdlibError
from pwdlib.hashers.argon2 import Argon2Hasher

_hasher = PasswordHash((Argon2Hasher(),))


def hash_password(plain: str) -> str:
    """Hash ``plain`` with a fresh salt; the result embeds algorithm and parameters."""
    return _hasher.hash(plain)


def verify_password(plain: str, hashed: str) -> bool:
    """Whether ``plain`` matches ``hashed``.

    A stored hash that is empty, corrupt or from an unknown scheme counts as a mismatch
    rather than an error, so a damaged user row locks that user out instead of failing
    the whole sign-in endpoint.
    """
    try:
        return _hasher.verify(plain, hashed)
    except (PwdlibError, ValueError, TypeError):
        return False
